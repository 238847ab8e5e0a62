/**
 * Where each step's time goes, phase by phase. The step scheduler tells it
 * when a step starts, when each shard goes out and when its result is in;
 * the training loop tells it how long the update took; each result carries
 * the worker's own times (ShardTimes), which are moved onto the
 * coordinator's clock with that worker's estimated offset (ClockOffset).
 *
 * Out of it come trace.json (every phase of every worker, Horovod-style
 * timeline) and each step's phases along its critical path, the shard
 * whose result came in last: the latest step's for Prometheus and the
 * dashboard, totals past the warm-up for summary.json.
 */
import type { ShardTimes } from '../shared/observability/clock';
import type { TraceSpan } from '../shared/observability/chrome-trace';
import type { ShardTask } from '../shared/training/gradient-step';
import { ClockOffset } from './clock-offset';
import type { ShardResult, StepObserver } from './step-scheduler';

/** Milliseconds of one step along its critical path; they add up to the step's time. */
export interface StepPhases {
  /** Coordinator: reading and encoding the weights, writing them and the assignments, up to the last shard's (--broadcast staggered: with the wait for the workers before it). */
  broadcast: number;
  /** Weights and assignment on their way to the worker. */
  toWorker: number;
  /** Worker: receiving the weights, decoding them, writing them into the model. */
  loadWeights: number;
  compute: number;
  /** Worker: encoding the gradient and handing it to the transport. */
  encode: number;
  /** The gradient on its way, until the coordinator holds all of it. */
  toCoordinator: number;
  /** Adding up the shards' sums. */
  aggregate: number;
  /** The optimizer update. */
  apply: number;
  /** The step's time not in any phase above. */
  other: number;
}

export const PHASE_NAMES: (keyof StepPhases)[] = ['broadcast', 'toWorker', 'loadWeights', 'compute', 'encode', 'toCoordinator', 'aggregate', 'apply', 'other'];
/** The phases that move weights and gradients: the summary's communication_ms. */
export const COMMUNICATION_PHASES: (keyof StepPhases)[] = ['broadcast', 'toWorker', 'loadWeights', 'encode', 'toCoordinator'];

export interface PhaseTotals {
  steps: number;
  ms: StepPhases;
}

/** Where the timeline's spans go (trace.json); flushed once per step. */
export interface SpanSink {
  span(s: TraceSpan): void;
  flush(): void;
}

interface ShardRecord {
  workerId: string;
  sentAt: number;
  computeMs: number;
  /** The shard's sample count, shown on its compute span (how a heterogeneous cluster was split). */
  samples?: number;
  receivedAt?: number;
  times?: ShardTimes;
  /** Parts of its gradient that came before the last: when the worker sent each (its clock) and when it came. */
  parts: { tensors: number; sent: number; receivedAt: number }[];
}

interface OpenStep {
  task: ShardTask;
  step: number;
  /** Written to the trace (see TRACE_ALL_STEPS). */
  traced: boolean;
  start: number;
  shards: Map<string, ShardRecord>;
  last?: ShardRecord;
  gatheredAt?: number;
  early: { tensors: number[]; start: number; end: number }[];
}

const COORDINATOR = 'coordinator';
/**
 * The trace holds every step up to this one, then one in TRACE_EVERY (and
 * every validation round): about 1.5 KB per step and worker, so a long
 * run's file stays in the megabytes while its start, where problems show,
 * is complete.
 */
export const TRACE_ALL_STEPS = 1000;
export const TRACE_EVERY = 50;
export const zeroPhases = (): StepPhases => ({ broadcast: 0, toWorker: 0, loadWeights: 0, compute: 0, encode: 0, toCoordinator: 0, aggregate: 0, apply: 0, other: 0 });

export class StepTimeline implements StepObserver {
  /** Past the training loop's warm-up steps, like the summary's steady figures. */
  readonly steady: PhaseTotals = { steps: 0, ms: zeroPhases() };
  /** The last training step's phases (undefined before the first). */
  latest: StepPhases | undefined;
  private readonly clocks = new Map<string, ClockOffset>();
  private open: OpenStep | undefined;

  constructor(private readonly sink?: SpanSink) {}

  stepStarted(task: ShardTask, step: number, at: number): void {
    const traced = this.sink !== undefined && (task === 'validate' || step < TRACE_ALL_STEPS || step % TRACE_EVERY === 0);
    this.open = { task, step, traced, start: at, shards: new Map(), early: [] };
  }

  shardSent(shardId: number, workerId: string, at: number): void {
    this.open?.shards.set(`${shardId}/${workerId}`, { workerId, sentAt: at, computeMs: 0, parts: [] });
  }

  partDone(r: ShardResult, at: number): void {
    const shard = this.open?.shards.get(`${r.shardId}/${r.workerId}`);
    if (shard !== undefined && r.times?.sent) shard.parts.push({ tensors: r.sums.grads.length, sent: r.times.sent, receivedAt: at });
  }

  appliedEarly(tensors: number[], start: number, end: number): void {
    this.open?.early.push({ tensors, start, end });
  }

  shardDone(r: ShardResult, at: number): void {
    const shard = this.open?.shards.get(`${r.shardId}/${r.workerId}`);
    if (shard === undefined) return;
    Object.assign(shard, { receivedAt: at, computeMs: r.computeMs, samples: r.sums.count, times: r.times?.computeStart ? r.times : undefined });
    this.open!.last = shard;
    if (shard.times !== undefined) {
      const clock = this.clocks.get(r.workerId) ?? new ClockOffset();
      this.clocks.set(r.workerId, clock);
      clock.add({ sent: shard.sentAt, arrived: shard.times.assigned, answered: shard.times.sent, received: at });
    }
  }

  /** Every result is in and added up. A validation round ends here; a training step goes on to the update. */
  stepGathered(at: number): void {
    const s = this.open;
    if (s === undefined) return;
    s.gatheredAt = at;
    this.traceGathering(s);
    for (const shard of s.shards.values()) this.traceShard(s, shard);
    if (s.task === 'validate') {
      this.coordinatorSpan(s, `validate (step ${s.step})`, s.start, at);
      this.open = undefined;
      if (s.traced) this.sink!.flush();
    }
  }

  /** The update of the open training step took `applyMs` and ended `at`; the step took `stepMs` in all. */
  stepApplied({ applyMs, stepMs, warmup }: { applyMs: number; stepMs: number; warmup: boolean }, at: number): void {
    const s = this.open;
    if (s === undefined || s.task !== 'train' || s.gatheredAt === undefined) return;
    this.open = undefined;
    for (const e of s.early) this.coordinatorSpan(s, `update and send ${e.tensors.length} tensor(s) early`, e.start, e.end, 'early updates');
    this.coordinatorSpan(s, 'apply', at - applyMs, at);
    this.coordinatorSpan(s, `step ${s.step}`, s.start, at);
    if (s.traced) this.sink!.flush();
    if (s.last === undefined) return;
    const phases = (this.latest = this.criticalPath(s, s.last, applyMs, stepMs));
    if (warmup) return;
    this.steady.steps++;
    for (const k of PHASE_NAMES) this.steady.ms[k] += phases[k];
  }

  /** The steady totals as milliseconds per step, for summary.json. */
  perStep(): StepPhases {
    const out = zeroPhases();
    for (const k of PHASE_NAMES) out[k] = this.steady.ms[k] / Math.max(1, this.steady.steps);
    return out;
  }

  private criticalPath(s: OpenStep, last: ShardRecord, applyMs: number, stepMs: number): StepPhases {
    const p = zeroPhases();
    p.broadcast = last.sentAt - s.start;
    const received = last.receivedAt!;
    const w = this.onCoordinatorClock(last);
    if (w === undefined) {
      // A worker that does not report its times: everything but its compute counts as transfer.
      p.compute = last.computeMs;
      p.toCoordinator = received - last.sentAt - last.computeMs;
    } else {
      const arrived = w.weightsReceived || w.assigned;
      p.toWorker = arrived - last.sentAt;
      p.loadWeights = w.computeStart - arrived;
      p.compute = w.computeEnd - w.computeStart;
      p.encode = w.sent - w.computeEnd;
      p.toCoordinator = received - w.sent;
    }
    p.aggregate = s.gatheredAt! - received;
    p.apply = applyMs;
    p.other = stepMs - PHASE_NAMES.reduce((sum, k) => sum + p[k], 0);
    return p;
  }

  /** The worker's times moved onto this clock; undefined when it sent none. */
  private onCoordinatorClock(shard: ShardRecord): ShardTimes | undefined {
    const t = shard.times;
    const at = this.workerClock(shard.workerId);
    if (t === undefined || at === undefined) return undefined;
    return { weightsReceived: at(t.weightsReceived), assigned: at(t.assigned), computeStart: at(t.computeStart), computeEnd: at(t.computeEnd), sent: at(t.sent) };
  }

  /** Moves a time of this worker's clock onto the coordinator's (0, unknown, stays 0). */
  private workerClock(workerId: string): ((v: number) => number) | undefined {
    const offset = this.clocks.get(workerId)?.estimate()?.offsetMs;
    return offset === undefined ? undefined : (v) => (v === 0 ? 0 : v - offset);
  }

  private coordinatorSpan(s: OpenStep, name: string, start: number, end: number, thread = 'steps'): void {
    if (s.traced) this.sink!.span({ name, process: COORDINATOR, thread, start, end });
  }

  /** The coordinator's side of a step up to its results added up (traced first, so it is the top row). */
  private traceGathering(s: OpenStep): void {
    const lastSent = Math.max(s.start, ...[...s.shards.values()].map((x) => x.sentAt));
    const lastIn = s.last?.receivedAt ?? lastSent;
    this.coordinatorSpan(s, 'send weights and shards', s.start, lastSent);
    this.coordinatorSpan(s, 'wait for results', lastSent, lastIn);
    this.coordinatorSpan(s, 'aggregate', lastIn, s.gatheredAt!);
  }

  private traceShard(s: OpenStep, shard: ShardRecord): void {
    if (!s.traced || shard.receivedAt === undefined) return;
    const w = this.onCoordinatorClock(shard);
    if (w === undefined) return;
    const process = `worker ${shard.workerId}`;
    const span = (thread: string, name: string, start: number, end: number, args: Record<string, number> = { step: s.step }) =>
      this.sink!.span({ name, process, thread, start, end, args });
    const arrived = w.weightsReceived || w.assigned;
    span('network', s.task === 'train' ? 'weights → worker' : 'shard → worker', shard.sentAt, arrived);
    if (w.weightsReceived > 0) span('work', 'load weights', w.weightsReceived, w.computeStart);
    span('work', s.task === 'train' ? 'compute gradient' : 'validate', w.computeStart, w.computeEnd, { step: s.step, samples: shard.samples ?? 0 });
    span('work', 'encode and send', w.computeEnd, w.sent);
    const at = this.workerClock(shard.workerId)!;
    for (const p of shard.parts) span('network', `gradient part (${p.tensors} tensors) → coordinator`, at(p.sent), p.receivedAt);
    span('network', s.task === 'train' ? 'gradient → coordinator' : 'result → coordinator', w.sent, shard.receivedAt);
  }
}
