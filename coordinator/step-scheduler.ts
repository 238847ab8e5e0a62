/**
 * One synchronous step across the workers: admit newcomers, make sure every
 * worker has the current weights, cut the global batch into shards by
 * throughput, collect each shard's gradient sums, and add them up in shard
 * order. A shard whose worker leaves, misses its deadline or sends an
 * unusable gradient goes to another worker in the same step: no step is
 * skipped and no sample is counted twice.
 *
 * A shard's gradient may come in parts, as the worker's backward pass
 * finishes them. A tensor that every shard has sent goes to the update at
 * once (StepWork.applyEarly), before the rest of the step is in, so the
 * optimizer works while the first layers' gradients are still being
 * computed, and the updated tensors go out to the workers at once
 * (EarlyWeights). A part
 * is taken from whichever attempt at its shard sent it first: a reassigned
 * shard's new worker recomputes the same samples with the same seed.
 *
 * A training step staggered (see BroadcastPolicy) hands out its weights one
 * worker at a time: the next worker's weights and shard go out once the
 * one before says it holds the weights (or a timeout passes). Where the
 * coordinator's link is what limits a step, the first worker then computes
 * while the second's weights cross the link, and sends its gradient up
 * while the second computes, instead of every worker waiting for all the
 * weights to cross and all gradients crowding the link at once.
 *
 * Validation at the end of an epoch is farmed out the same way, with the
 * same failure handling: shards of the validation indices, answered with
 * loss and correct counts instead of gradients.
 */
import { DivergedError, InterruptedError } from '../shared/errors';
import type { Logger } from '../shared/logging';
import { clockMs, ShardTimes } from '../shared/observability/clock';
import { RepeatedLines } from '../shared/observability/repeated-lines';
import type { GradientSums, ShardTask } from '../shared/training/gradient-step';
import type { FloatArray } from '../shared/wire/tensor-codec';
import { addGradient, addSums, emptySums, firstNonFinite } from '../shared/training/gradient-sums';
import type { GradientSource, StepWork } from '../shared/training/training-loop';
import { BroadcastPolicy, fixedBroadcast } from './broadcast-policy';
import { DeadlineTimer } from './deadline-timer';
import type { Member, Membership } from './membership';
import { ShardDeadlineOptions, ShardDeadlines } from './shard-deadlines';
import { planShards } from './shard-planner';
import { StragglerPolicy } from './straggler-policy';
import { WeightsTurns } from './weights-turns';

export interface ShardResult {
  task: ShardTask;
  workerId: string;
  step: number;
  weightsVersion: number;
  shardId: number;
  /** The shard's sums, with `grads` holding the tensors named by `tensors`. */
  sums: GradientSums;
  /** Positions of `sums.grads` among the model's gradient tensors; all of them, in order, when absent. */
  tensors?: number[];
  computeMs: number;
  /** The worker's clock at each point of its work, when it reports them. */
  times?: ShardTimes;
}

/** Told when a step's phases happen, on this process's clock (clockMs); the step timeline listens. */
export interface StepObserver {
  stepStarted(task: ShardTask, step: number, at: number): void;
  shardSent(shardId: number, workerId: string, at: number): void;
  /** An accepted result (the last part of a gradient sent in parts). */
  shardDone(r: ShardResult, at: number): void;
  /** An accepted part of a gradient that leaves the shard unfinished. */
  partDone?(r: ShardResult, at: number): void;
  /** The update applied these tensors before the step's last results came in, and sent their new values to the workers. */
  appliedEarly?(tensors: number[], start: number, end: number): void;
  /** Every result is in and added up. */
  stepGathered(at: number): void;
}

/** Told of the tensors a step updated before its end, to make them a part of the next weights (WeightsBroadcast). */
export interface EarlyWeights {
  /** Positions among the model's trainable weights. */
  early(tensors: number[]): void;
}

export interface SchedulerOptions {
  minWorkers: number;
  /** When a shard is reassigned, and how long a worker computing one may be silent. */
  deadlines: ShardDeadlineOptions;
  /** Ignore measured throughput and cut equal shards. */
  equalShards?: boolean;
  /** Deterministic runs: shards start on multiples of this, and sums are float64 (0 = off). */
  microBatch: number;
  gradientSizes: number[];
  /** Whether a training step sends each worker its weights after the one before holds them (--broadcast); all at once when absent. */
  broadcast?: BroadcastPolicy;
  /** A staggered step's shortest wait for a worker's word before the next one's turn (WeightsTurns' 20 ms when absent). */
  minTurnTimeoutMs?: number;
}

interface PendingShard {
  shardId: number;
  indices: Uint32Array;
  workerId: string;
  attempt: number;
  /** When its current attempt went out (clockMs). */
  sentAt: number;
  timer?: DeadlineTimer;
  /** Each gradient tensor, once it has come. */
  received: (FloatArray | undefined)[];
  missing: number;
  /** Set once every tensor has come. */
  result?: GradientSums;
  /** Workers whose gradient for it held NaN or Inf. */
  nonFinite: string[];
}

/**
 * A shard whose gradient came back non-finite this often, from every live worker, is taken as the model
 * having diverged rather than as broken workers: such a shard goes to a worker that has not failed it
 * while there is one, so broken workers among sound ones never get there, and a run whose every worker
 * computes NaN stops instead of cycling through them for ever.
 */
export const NON_FINITE_ATTEMPTS = 3;

/** Validation indices and how to judge them: with the weights workers train with, or with the evaluation (EMA) weights. */
export interface ValidationWork {
  step: number;
  epoch: number;
  indices: Uint32Array;
  evaluationWeights: boolean;
}

interface Job {
  task: ShardTask;
  step: number;
  epoch: number;
  seed: number;
  evaluationWeights: boolean;
  shards: PendingShard[];
  /** For each tensor, how many leading shards its running sum holds: added in shard order, so results replay exactly, into the first shard's buffer. */
  added: number[];
  /** Each tensor's sum over all shards, once every shard has sent it. */
  totals: (FloatArray | undefined)[];
  applyEarly?: StepWork['applyEarly'];
  settle: () => void;
  fail: (e: Error) => void;
}

export class StepScheduler implements GradientSource {
  lastWorkerCount = 0;
  private weightsVersion = 0;
  private current: Job | undefined;
  private readonly deadlines: ShardDeadlines;
  private readonly stragglers = new StragglerPolicy();
  private lastTrainStep = 0;
  /** Whatever waits for workers to join: a step, and each shard left without a worker. */
  private readonly waitingForWorkers = new Set<() => void>();
  private readonly turns: WeightsTurns;
  private readonly stragglerLines: RepeatedLines;
  stopped = false;
  private stopReason = 'stopped';

  constructor(
    private readonly membership: Membership,
    private readonly options: SchedulerOptions,
    private readonly log: Logger,
    private readonly observer?: StepObserver,
    private readonly earlyWeights?: EarlyWeights,
  ) {
    this.turns = new WeightsTurns(log, options.minTurnTimeoutMs);
    this.stragglerLines = new RepeatedLines(log);
    this.deadlines = new ShardDeadlines(options.deadlines);
    membership.on('left', (member, reason) => {
      const line = `worker ${member.id} (${member.link.address}) left: ${reason}`;
      if (this.stopped) this.log.info(line);
      else this.log.warn(line);
      this.reassignFrom(member.id, `worker ${member.id} left`);
      this.turns.left(member.id);
    });
  }

  /** Called after every optimizer update: the weights workers must use from now on. */
  setWeightsVersion(version: number): void {
    this.weightsVersion = version;
  }

  /** A worker says it holds training weights `version`: in a staggered step, the next worker's turn. */
  weightsLoaded(workerId: string, version: number): void {
    if (this.membership.get(workerId) !== undefined) this.turns.loaded(workerId, version);
  }

  /** Wakes whatever waits for workers (a worker joined). */
  notifyJoined(): void {
    for (const wake of this.waitingForWorkers) wake();
  }

  async computeBatch(work: StepWork): Promise<GradientSums> {
    const job = { task: 'train' as const, step: work.step, epoch: work.epoch, seed: work.seed, evaluationWeights: false, applyEarly: work.applyEarly };
    const { shards, totals } = await this.run(job, work.indices);
    if (shards.length === 0) return emptySums(this.options.gradientSizes, this.options.microBatch > 0 ? Float64Array : Float32Array);
    const grads = totals as FloatArray[];
    const stats = emptySums([]);
    for (const s of shards) addSums(stats, { ...s.result!, grads: [] });
    this.observer?.stepGathered(clockMs());
    return { ...stats, grads };
  }

  /** Loss and accuracy over the validation indices, computed by the workers. */
  async validate(work: ValidationWork): Promise<{ loss: number; accuracy: number }> {
    const { shards } = await this.run({ task: 'validate', step: work.step, epoch: work.epoch, seed: 0, evaluationWeights: work.evaluationWeights }, work.indices);
    const total = emptySums([]);
    for (const s of shards) addSums(total, s.result!);
    this.observer?.stepGathered(clockMs());
    const { count, lossSum, correct } = total;
    const workers = new Set(shards.map((s) => s.workerId)).size;
    this.log.info(`validated ${count} samples on ${workers} worker(s)${work.evaluationWeights ? ' with the weight EMA' : ''}`);
    return count > 0 ? { loss: lossSum / count, accuracy: correct / count } : { loss: NaN, accuracy: NaN };
  }

  /** Cuts `indices` into shards for the active workers and waits until every shard has an accepted result. */
  private async run(job: Omit<Job, 'shards' | 'added' | 'totals' | 'settle' | 'fail'>, indices: Uint32Array): Promise<{ shards: PendingShard[]; totals: Job['totals'] }> {
    const members = await this.enoughWorkers();
    this.observer?.stepStarted(job.task, job.step, clockMs());
    const workers = job.task === 'train' && !this.options.equalShards ? this.leaveOutStragglers(job.step, indices.length, members) : members;
    const broadcast = this.options.broadcast ?? TOGETHER;
    const mode = job.task === 'train' ? broadcast.modeFor(members.length) : 'together';
    const staggered = mode === 'staggered';
    const started = clockMs();
    // Before any shard goes out: the weights read here are the step's, before its early updates change the model.
    // A worker sitting out gets them (whole, as it is behind) with its next shard.
    if (!staggered) for (const m of workers) m.link.sendWeights(this.weightsVersion);
    const rates = workers.map((m) => (this.options.equalShards ? 1 : m.samplesPerSecond));
    const ranges = planShards(indices.length, rates, job.task === 'train' ? Math.max(1, this.options.microBatch) : 1);
    const tensors = job.task === 'train' ? this.options.gradientSizes.length : 0;
    const shards: PendingShard[] = ranges
      .map((r, i) => ({ shardId: i, indices: indices.subarray(r.start, r.end), workerId: workers[i].id, attempt: 0, sentAt: 0, received: new Array(tensors).fill(undefined), missing: tensors, nonFinite: [] }))
      .filter((s) => s.indices.length > 0);
    if (job.task === 'train') {
      this.lastWorkerCount = members.length;
      this.lastTrainStep = job.step;
    }
    const totals: Job['totals'] = new Array(tensors).fill(undefined);
    try {
      await new Promise<void>((settle, fail) => {
        this.current = { ...job, shards, added: new Array(tensors).fill(0), totals, settle, fail };
        if (shards.length === 0) settle();
        if (staggered) void this.sendInTurn(this.current);
        else for (const s of shards) this.send(s);
      });
    } finally {
      // A step that failed (diverged, stopped) is over too: its deadlines must not drop workers, nor its late results go round again.
      for (const s of shards) s.timer?.clear();
      this.current = undefined;
    }
    if (job.task === 'train') broadcast.stepTook(mode, members.length, clockMs() - started);
    return { shards, totals };
  }

  /** Whether a worker sits out the training steps for now (a straggler; see StragglerPolicy). */
  sittingOut(workerId: string): boolean {
    return this.stragglers.isResting(workerId, this.lastTrainStep);
  }

  private leaveOutStragglers(step: number, batch: number, members: Member[]): Member[] {
    const { chosen, leftOut } = this.stragglers.choose(step, batch, members);
    if (leftOut !== undefined) {
      const { worker, othersMs } = leftOut;
      // Tried again after each rest, a worker still slow sits out again and again: several times a second with fast steps.
      this.stragglerLines.say(
        'info',
        worker.id,
        `worker ${worker.id} sits out the next ${this.stragglers.restSteps} steps: its shards take ${worker.roundTripMs.toFixed(0)} ms, the others need about ${othersMs.toFixed(0)} ms for the whole batch`,
      );
    }
    return chosen;
  }

  /** A decoded result from a worker. Returns why it was rejected, or undefined if accepted. */
  deliver(r: ShardResult): string | undefined {
    const cur = this.current;
    if (cur === undefined || r.step !== cur.step) return `stale step ${r.step} (current ${cur?.step ?? 'none'})`;
    if (r.task !== cur.task) return `a ${r.task === 'train' ? 'gradient' : 'validation result'} for step ${r.step}, which asked for ${cur.task === 'train' ? 'gradients' : 'validation'}`;
    if (r.weightsVersion !== this.weightsVersion) return `computed on weights version ${r.weightsVersion}, current is ${this.weightsVersion}`;
    const shard = cur.shards.find((s) => s.shardId === r.shardId);
    if (shard === undefined) return `unknown shard ${r.shardId}`;
    if (shard.result !== undefined || shard.workerId !== r.workerId) return `shard ${r.shardId} is no longer assigned to ${r.workerId}`;
    if (r.sums.count !== shard.indices.length) return `gradient over ${r.sums.count} samples, shard has ${shard.indices.length}`;
    const bad = firstNonFinite(r.sums);
    if (bad !== undefined) {
      shard.nonFinite.push(r.workerId);
      const untried = this.membership.active().some((m) => !shard.nonFinite.includes(m.id));
      if (untried || shard.nonFinite.length < NON_FINITE_ATTEMPTS) this.reassign(shard, `non-finite gradient from ${r.workerId} (${bad})`);
      else cur.fail(new DivergedError(`training diverged at step ${cur.step}: shard ${shard.shardId}'s ${cur.task === 'train' ? 'gradient' : 'validation result'} held ${bad} ${shard.nonFinite.length} times (from ${shard.nonFinite.join(', ')}); a lower --lr may help`));
      return `gradient contains ${bad}`;
    }
    const positions = r.tensors ?? r.sums.grads.map((_, i) => i);
    if (positions.length !== r.sums.grads.length || positions.some((t) => t >= shard.received.length)) return `gradient names tensors [${positions.join(', ')}] of ${shard.received.length}`;
    const arrived = positions.filter((t, j) => {
      if (shard.received[t] !== undefined) return false; // sent by an earlier attempt at this shard
      shard.received[t] = r.sums.grads[j];
      shard.missing--;
      return true;
    });
    if (shard.missing > 0) {
      if (arrived.length > 0) this.observer?.partDone?.(r, clockMs());
      this.applyEarly(cur, this.addUp(cur, arrived));
      return undefined;
    }
    shard.timer?.clear();
    shard.result = { ...r.sums, grads: shard.received as FloatArray[] };
    const doneAt = clockMs();
    this.observer?.shardDone(r, doneAt);
    if (r.task === 'train') {
      this.deadlines.record(r.computeMs, r.sums.count);
      this.membership.recordShard(r.workerId, r.sums.count, r.computeMs / 1000, doneAt - shard.sentAt);
    }
    const complete = this.addUp(cur, arrived);
    if (cur.shards.every((s) => s.result !== undefined)) cur.settle();
    else this.applyEarly(cur, complete);
    return undefined;
  }

  /**
   * Adds what just arrived to the totals, as far as shard order allows
   * (with staggered weights the shards come in about in order, so the last
   * one's arrival leaves one add, not one per shard); returns the tensors
   * whose totals are now complete.
   */
  private addUp(cur: Job, arrived: number[]): number[] {
    const shards = cur.shards;
    return arrived.filter((t) => {
      for (; cur.added[t] < shards.length && shards[cur.added[t]].received[t] !== undefined; cur.added[t]++) {
        if (cur.added[t] > 0) addGradient(shards[0].received[t]!, shards[cur.added[t]].received[t]!, t);
      }
      if (cur.added[t] < shards.length) return false;
      cur.totals[t] = shards[0].received[t];
      return true;
    });
  }

  /** Tensors whose totals are complete before the step's end go to the update, and their new values to the workers. */
  private applyEarly(cur: Job, complete: number[]): void {
    if (cur.applyEarly === undefined || complete.length === 0) return;
    const start = clockMs();
    cur.applyEarly(complete, complete.map((t) => cur.totals[t]!));
    if (this.earlyWeights !== undefined) {
      this.earlyWeights.early(complete);
      for (const m of this.membership.active()) m.link.sendEarlyWeights();
    }
    this.observer?.appliedEarly?.(complete, start, clockMs());
  }

  stop(reason: string): void {
    this.stopped = true;
    this.stopReason = reason;
    this.turns.releaseAll();
    this.notifyJoined();
    this.current?.fail(new InterruptedError(reason));
  }

  private async enoughWorkers(): Promise<Member[]> {
    let warned = false;
    for (;;) {
      if (this.stopped) throw new InterruptedError(this.stopReason);
      this.membership.admitPending();
      const active = this.membership.active();
      if (active.length >= this.options.minWorkers && active.length > 0) return active;
      if (!warned) {
        this.log.info(`waiting for workers: ${active.length} of ${Math.max(1, this.options.minWorkers)} needed; training is paused`);
        warned = true;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waitingForWorkers.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 1000);
        timer.unref();
        this.waitingForWorkers.add(wake);
      });
    }
  }

  /** Whether training is paused until workers join (fewer than --min-workers, or none left for a shard). */
  pausedForWorkers(): boolean {
    return this.waitingForWorkers.size > 0;
  }

  /** How much longer than the heartbeat timeout this worker may stay silent (see ShardDeadlines). */
  silenceAllowanceMs(workerId: string): number {
    return this.deadlines.silenceAllowanceMs(this.samplesInHand(workerId), this.membership.get(workerId)?.samplesPerSecond ?? 0);
  }

  /** Samples of the shards sent to this worker and not yet answered: it computes them one after another. */
  private samplesInHand(workerId: string): number {
    let samples = 0;
    for (const s of this.current?.shards ?? []) if (s.workerId === workerId && s.sentAt > 0 && s.result === undefined) samples += s.indices.length;
    return samples;
  }

  /**
   * Each shard once the worker before has its weights. A shard reassigned
   * while it waits has gone out already; a worker that leaves, or stays
   * silent past the timeout, hands the turn on.
   */
  private async sendInTurn(job: Job): Promise<void> {
    for (const shard of job.shards) {
      if (this.current !== job) return;
      if (shard.sentAt === 0) this.send(shard);
      if (shard === job.shards[job.shards.length - 1]) return;
      await this.turns.heldBy(shard.workerId, this.weightsVersion);
    }
  }

  private send(shard: PendingShard): void {
    const member = this.membership.get(shard.workerId);
    const cur = this.current!;
    if (member === undefined) {
      this.reassign(shard, `worker ${shard.workerId} is gone`);
      return;
    }
    member.link.sendWeights(this.weightsVersion);
    if (cur.evaluationWeights) member.link.sendEvaluationWeights(this.weightsVersion);
    member.link.assign({
      task: cur.task,
      step: cur.step,
      epoch: cur.epoch,
      weightsVersion: this.weightsVersion,
      evaluationWeights: cur.evaluationWeights,
      shardId: shard.shardId,
      indices: shard.indices,
      seed: cur.seed,
    });
    shard.sentAt = clockMs();
    this.observer?.shardSent(shard.shardId, shard.workerId, shard.sentAt);
    const attempt = shard.attempt;
    // A shard handed to a worker that still holds others waits behind them: its deadline counts their samples too.
    const ms = this.deadlines.forSamples(this.samplesInHand(shard.workerId));
    shard.timer = new DeadlineTimer(() => {
      if (shard.result === undefined && shard.attempt === attempt) {
        const guess = this.deadlines.missed(ms);
        const next = guess !== undefined ? ` (no shard has finished yet: the next deadline is ${guess} ms)` : '';
        this.log.warn(`worker ${shard.workerId} missed the ${ms} ms deadline for shard ${shard.shardId} of step ${cur.step}; dropping it${next}`);
        this.membership.leave(shard.workerId, `missed shard deadline (${ms} ms)`);
        member.link.drop('missed shard deadline');
      }
    }, ms);
  }

  private reassignFrom(workerId: string, why: string): void {
    if (this.stopped) return; // the step has failed already: nothing of it is computed again
    for (const s of this.current?.shards ?? []) if (s.workerId === workerId && s.result === undefined) this.reassign(s, why);
  }

  private reassign(shard: PendingShard, why: string): void {
    shard.timer?.clear();
    // Another worker than the last one, and one that has not computed this shard as NaN, where there is one.
    const active = this.membership.active();
    const others = active.filter((m) => m.id !== shard.workerId);
    const untried = others.filter((m) => !shard.nonFinite.includes(m.id));
    const pool = [untried, others].find((p) => p.length > 0) ?? active;
    if (pool.length === 0) {
      // Wait for a worker to come back, then retry this shard.
      this.log.warn(`no worker left for shard ${shard.shardId} (${why}); waiting`);
      void this.enoughWorkers().then(() => this.reassign(shard, why), (err) => this.current?.fail(err as Error));
      return;
    }
    // The worker that would finish it first, counting what it already holds; one not yet measured counts as slow,
    // and among those the one holding least goes first, so shards waiting for workers spread over the ones that come.
    const finish = (m: Member) => (this.samplesInHand(m.id) + shard.indices.length) / (m.samplesPerSecond > 0 ? m.samplesPerSecond : 1e-3);
    const target = pool.reduce((a, b) => (finish(b) < finish(a) ? b : a));
    this.log.info(`reassigning shard ${shard.shardId} of step ${this.current?.step} to ${target.id}: ${why}`);
    shard.workerId = target.id;
    shard.attempt++;
    this.send(shard);
  }
}

const TOGETHER = fixedBroadcast('together');

