/**
 * Who is in the run. Workers join at any time but are admitted only at a
 * step boundary (admitPending), so a step's plan never changes under it
 * except when a worker fails. Each member keeps a throughput estimate that
 * sizes its shards.
 */
import { EventEmitter } from 'node:events';
import type { ShardTask } from '../shared/training/gradient-step';

/** What the scheduler needs from a connected worker; the gRPC session implements it. */
export interface WorkerLink {
  readonly address: string;
  readonly backend: string;
  readonly name: string;
  sendWeights(version: number): void;
  /** The weights to validate with (the EMA) for training weights `version`, unless already sent. */
  sendEvaluationWeights(version: number): void;
  assign(assignment: ShardAssignment): void;
  close(reason: string): void;
}

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
    const member: Member = { id: `w${this.nextId++}`, link, state: 'pending', samplesPerSecond: 0, lastSeen: this.now(), shardsDone: 0 };
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

  recordShard(id: string, samples: number, seconds: number): void {
    const m = this.members.get(id);
    if (m === undefined || seconds <= 0) return;
    const rate = samples / seconds;
    m.samplesPerSecond = m.samplesPerSecond === 0 ? rate : 0.7 * m.samplesPerSecond + 0.3 * rate;
    m.shardsDone++;
  }
}
