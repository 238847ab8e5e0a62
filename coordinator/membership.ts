/**
 * Who is in the run. Workers join at any time but are admitted only at a
 * step boundary (admitPending), so a step's plan never changes under it
 * except when a worker fails. Each member keeps a throughput estimate that
 * sizes its shards.
 */
import { EventEmitter } from 'node:events';
import { median } from '../shared/median';
import type { ShardTask } from '../shared/training/gradient-step';

/** What the scheduler needs from a connected worker; the gRPC session implements it. */
export interface WorkerLink {
  readonly address: string;
  readonly backend: string;
  readonly name: string;
  sendWeights(version: number): void;
  /** The parts of the next version made so far in this step (WeightsBroadcast.early), unless already sent; only to a worker that holds the current version. */
  sendEarlyWeights(): void;
  /** The weights to validate with (the EMA) for training weights `version`, unless already sent. */
  sendEvaluationWeights(version: number): void;
  assign(assignment: ShardAssignment): void;
  /** Ends this worker's session: it may join again. */
  drop(reason: string): void;
  /** Ends the session because the run ends for everyone: finished, or stopped unfinished (to be resumed). */
  endRun(reason: string, outcome: RunOutcome): void;
}

export type RunOutcome = 'finished' | 'stopped';

export interface ShardAssignment {
  task: ShardTask;
  step: number;
  epoch: number;
  weightsVersion: number;
  /** Validate with the evaluation weights sent for weightsVersion rather than the training weights. */
  evaluationWeights: boolean;
  shardId: number;
  indices: Uint32Array;
  seed: number;
}

export type MemberState = 'pending' | 'active' | 'gone';

export interface Member {
  readonly id: string;
  readonly link: WorkerLink;
  state: MemberState;
  /** Samples per second of gradient computation, smoothed; 0 until measured. */
  samplesPerSecond: number;
  /** From sending a training shard to its last result: the median of the last few; 0 until measured. */
  roundTripMs: number;
  /** The part of that round trip outside computing, likewise. */
  overheadMs: number;
  /** The last few shards' round trips and overheads (a median shrugs off a warm-up shard or one unlucky step). */
  recent: { roundTripMs: number; overheadMs: number }[];
  lastSeen: number;
  shardsDone: number;
}

export interface MembershipEvents {
  left: [member: Member, reason: string];
}

export class Membership extends EventEmitter<MembershipEvents> {
  private readonly members = new Map<string, Member>();
  private nextId = 1;

  constructor(
    private readonly maxWorkers: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Registers a worker; it takes part from the next step boundary. */
  join(link: WorkerLink): Member {
    if (this.live().length >= this.maxWorkers) throw new RangeError(`the run already has its maximum of ${this.maxWorkers} workers`);
    const member: Member = { id: `w${this.nextId++}`, link, state: 'pending', samplesPerSecond: 0, roundTripMs: 0, overheadMs: 0, recent: [], lastSeen: this.now(), shardsDone: 0 };
    this.members.set(member.id, member);
    return member;
  }

  leave(id: string, reason: string): void {
    const m = this.members.get(id);
    if (m === undefined || m.state === 'gone') return;
    m.state = 'gone';
    this.members.delete(id);
    this.emit('left', m, reason);
  }

  admitPending(): Member[] {
    const admitted = [...this.members.values()].filter((m) => m.state === 'pending');
    for (const m of admitted) m.state = 'active';
    return admitted;
  }

  active(): Member[] {
    return [...this.members.values()].filter((m) => m.state === 'active');
  }

  live(): Member[] {
    return [...this.members.values()];
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  touch(id: string): void {
    const m = this.members.get(id);
    if (m !== undefined) m.lastSeen = this.now();
  }

  /** A training shard of `samples` computed in `seconds`, `roundTripMs` after it was sent. */
  recordShard(id: string, samples: number, seconds: number, roundTripMs = 0): void {
    const m = this.members.get(id);
    if (m === undefined || seconds <= 0) return;
    const rate = samples / seconds;
    m.samplesPerSecond = m.samplesPerSecond === 0 ? rate : 0.7 * m.samplesPerSecond + 0.3 * rate;
    if (roundTripMs > 0) {
      m.recent = [...m.recent.slice(1 - RECENT_SHARDS), { roundTripMs, overheadMs: Math.max(0, roundTripMs - seconds * 1000) }];
      m.roundTripMs = median(m.recent.map((r) => r.roundTripMs));
      m.overheadMs = median(m.recent.map((r) => r.overheadMs));
    }
    m.shardsDone++;
  }
}

const RECENT_SHARDS = 5;
