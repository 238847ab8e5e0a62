/**
 * Which workers get a training shard. Shards are sized by samples/s, which
 * assumes a shard's time grows with its samples from zero. A worker with a
 * large cost per shard (a slow host decoding the weights, a forward and
 * backward pass of even a few samples) then settles on a sliver of the
 * batch that still takes as long as the others' whole shards, and every
 * step waits for it: a CPU worker beside GPU workers, or a host throttled by
 * its neighbours. Such a worker (one earning less than half an equal share,
 * whose shards take longer than the others would need for the whole batch)
 * sits out a number of steps, then is tried again (its host may have
 * recovered). The share condition keeps it to real stragglers: on a busy
 * host a worker with a fair share can have a few slow round trips, and the
 * others would not do its share for free. The global batch, and so the
 * training, is the same either way.
 */

/** What the policy reads of a worker: the membership's measurements of its recent training shards. */
export interface ShardCost {
  readonly id: string;
  samplesPerSecond: number;
  /** From sending a shard to its last result (a median of recent shards; 0 = not measured). */
  roundTripMs: number;
  /** The part of the round trip outside computing the gradient: transfers, decoding, encoding. */
  overheadMs: number;
  /** Training shards it has finished, so far. */
  shardsDone: number;
}

export interface LeftOut<T> {
  worker: T;
  /** What the other workers are expected to need for the whole batch. */
  othersMs: number;
}

/** Shards a worker must have finished before it is judged: its first ones include compiling kernels. */
export const SHARDS_BEFORE_JUDGING = 3;

export class StragglerPolicy {
  /** Workers left out: until which step, and how many shards they had done then (judged again only after a new one). */
  private readonly leftOut = new Map<string, { until: number; shardsDone: number }>();

  /**
   * @param restSteps how many steps a left-out worker sits out before it gets a shard again
   * @param margin how much longer than the others' whole-batch time its shards must take: near a tie either choice is as good
   */
  constructor(
    readonly restSteps = 20,
    private readonly margin = 1.05,
  ) {}

  /** Whether the worker sits out `step`. */
  isResting(id: string, step: number): boolean {
    return (this.leftOut.get(id)?.until ?? -1) > step;
  }

  /** The workers to give shards of `batch` samples at `step`; `leftOut` names a worker set to sit out from now. */
  choose<T extends ShardCost>(step: number, batch: number, workers: readonly T[]): { chosen: T[]; leftOut?: LeftOut<T> } {
    for (const id of this.leftOut.keys()) if (!workers.some((w) => w.id === id)) this.leftOut.delete(id);
    const chosen = workers.filter((w) => !this.isResting(w.id, step));
    if (chosen.length < 2) return { chosen: chosen.length > 0 ? chosen : [...workers] };
    if (chosen.some((w) => w.shardsDone < SHARDS_BEFORE_JUDGING || w.samplesPerSecond <= 0 || w.roundTripMs <= 0)) return { chosen };
    const slowest = chosen.reduce((a, b) => (b.roundTripMs > a.roundTripMs ? b : a));
    const back = this.leftOut.get(slowest.id);
    if (back !== undefined && slowest.shardsDone <= back.shardsDone) return { chosen }; // back from a rest: measure it first
    const total = chosen.reduce((sum, w) => sum + w.samplesPerSecond, 0);
    if (slowest.samplesPerSecond / total >= 0.5 / chosen.length) return { chosen };
    const others = chosen.filter((w) => w !== slowest);
    // Shards sized by samples/s make every other worker compute for the same time.
    const computeMs = (1000 * batch) / others.reduce((sum, w) => sum + w.samplesPerSecond, 0);
    const othersMs = computeMs + Math.max(...others.map((w) => w.overheadMs));
    if (slowest.roundTripMs <= this.margin * othersMs) {
      this.leftOut.delete(slowest.id);
      return { chosen };
    }
    this.leftOut.set(slowest.id, { until: step + this.restSteps, shardsDone: slowest.shardsDone });
    return { chosen: others, leftOut: { worker: slowest, othersMs } };
  }
}
