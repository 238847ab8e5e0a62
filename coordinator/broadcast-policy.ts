/**
 * How a training step hands out its weights (--broadcast): to every worker
 * at once, one worker after another (see StepScheduler), or, with `auto`,
 * whichever of the two this cluster's steps measure faster.
 *
 * Which one wins depends on the link, not on anything a user can be
 * expected to know: on loopback staggering only delays the later workers
 * (a millisecond of weights per worker), at 1 Gbit/s it made `cnn` steps
 * 1.13-1.46x faster (BENCHMARKS.md, "The cluster over emulated networks").
 * So, as Horovod's autotuner does for its fusion buffer, `auto` measures:
 * after a few warm-up steps it alternates the two for a trial and keeps the
 * faster, and tries again whenever the number of workers changes.
 */
import { median } from '../shared/median';

export type BroadcastMode = 'together' | 'staggered';

export interface BroadcastPolicy {
  /** The mode for the next training step of a cluster of `workers` active workers. */
  modeFor(workers: number): BroadcastMode;
  /** How long a training step in `mode` took, from its first weights going out to its last result in. */
  stepTook(mode: BroadcastMode, workers: number, ms: number): void;
}

export function fixedBroadcast(mode: BroadcastMode): BroadcastPolicy {
  return { modeFor: () => mode, stepTook: () => undefined };
}

export interface BroadcastTrial {
  workers: number;
  chosen: BroadcastMode;
  /** Median step time of each mode over the trial. */
  togetherMs: number;
  staggeredMs: number;
}

export interface BroadcastTunerOptions {
  /** Steps left out after the worker count changes (kernel compilation, first connections). */
  warmupSteps: number;
  /** Steps measured in each mode, alternating. */
  trialSteps: number;
  /** Staggered is kept only when its median is below this fraction of together's: together is the safer default. */
  staggeredBelow: number;
  /** Told of each decision. */
  onChoice: (trial: BroadcastTrial) => void;
}

export class BroadcastTuner implements BroadcastPolicy {
  private workers = 0;
  /** Steps seen since the worker count last changed. */
  private seen = 0;
  private readonly times: Record<BroadcastMode, number[]> = { together: [], staggered: [] };
  private chosen: BroadcastMode | undefined;

  constructor(private readonly options: BroadcastTunerOptions) {}

  modeFor(workers: number): BroadcastMode {
    if (workers !== this.workers) this.restart(workers);
    if (this.chosen !== undefined) return this.chosen;
    const trialStep = this.seen - this.options.warmupSteps;
    return trialStep >= 0 && trialStep % 2 === 1 ? 'staggered' : 'together';
  }

  stepTook(mode: BroadcastMode, workers: number, ms: number): void {
    if (workers !== this.workers || this.chosen !== undefined) return;
    if (this.seen++ < this.options.warmupSteps) return;
    this.times[mode].push(ms);
    const { together, staggered } = this.times;
    if (together.length < this.options.trialSteps || staggered.length < this.options.trialSteps) return;
    const togetherMs = median(together);
    const staggeredMs = median(staggered);
    this.chosen = staggeredMs < this.options.staggeredBelow * togetherMs ? 'staggered' : 'together';
    this.options.onChoice({ workers, chosen: this.chosen, togetherMs, staggeredMs });
  }

  private restart(workers: number): void {
    this.workers = workers;
    this.seen = 0;
    this.times.together = [];
    this.times.staggered = [];
    // One worker has no one to stagger against: both modes send the same, so there is nothing to try.
    this.chosen = workers < 2 ? 'together' : undefined;
  }
}

