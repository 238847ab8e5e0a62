/**
 * The failure detector for silent workers. A killed process closes its
 * connection and leaves at once; a worker behind a dead link or a hung host
 * sends nothing and closes nothing, so silence itself must end its
 * membership. Any message counts as a sign of life (Membership.touch);
 * workers send a heartbeat at a quarter of the timeout, so only a worker
 * that misses several in a row is dropped, and its shard goes to the others
 * through the scheduler's `left` handler.
 *
 * A worker is silent while it computes a shard (its heartbeats wait on the
 * same thread), so a worker with a shard in hand gets more time: the
 * scheduler's allowance for it (StepScheduler.silenceAllowanceMs). Without
 * it, a worker whose passes outlast the timeout is dropped in every step
 * and never finishes one.
 *
 * Silence is counted on the time this process ran. Stopped or stalled
 * (SIGSTOP, a suspended VM, a long pause), it reads nothing: the workers'
 * heartbeats wait in its sockets, and when it runs again its timers fire
 * before it reads them (Node runs timers before I/O). A check that comes
 * late by more than its period marks such a stall, which no worker's
 * silence includes; without that, a coordinator stopped for 15 s dropped
 * every worker the moment it ran again.
 */
import type { Logger } from '../shared/logging';
import type { Membership } from './membership';

export interface HeartbeatOptions {
  /** Silence after which a worker holding no shard is dropped. */
  timeoutMs: number;
  /** Extra silence allowed to a worker, in ms (it is computing a shard). */
  allowanceMs?: (workerId: string) => number;
  /** The clock; tests pass their own. */
  now?: () => number;
}

export class HeartbeatMonitor {
  readonly timeoutMs: number;
  private readonly allowanceMs: (workerId: string) => number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastCheckAt: number | undefined;
  /** When this process did not run, as far as the checks can tell. */
  private readonly stalls: { from: number; to: number }[] = [];

  constructor(
    private readonly membership: Membership,
    options: HeartbeatOptions,
    private readonly log: Logger,
  ) {
    this.timeoutMs = options.timeoutMs;
    this.allowanceMs = options.allowanceMs ?? (() => 0);
    this.now = options.now ?? Date.now;
  }

  /** How often workers should send a heartbeat so that missing one is not fatal. */
  get intervalMs(): number {
    return Math.max(50, Math.min(2000, Math.floor(this.timeoutMs / 4)));
  }

  /** How often the silence is checked. */
  get checkEveryMs(): number {
    return Math.max(25, Math.min(500, Math.floor(this.timeoutMs / 10)));
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Drops every member silent for longer than the timeout; returns their ids. */
  check(): string[] {
    const t = this.now();
    this.noteStall(t);
    const dropped: string[] = [];
    for (const m of this.membership.live()) {
      const silentMs = t - m.lastSeen - this.stalledSince(m.lastSeen);
      const allowance = this.allowanceMs(m.id);
      if (silentMs <= this.timeoutMs + allowance) continue;
      const extra = allowance >= 1000 ? `${(allowance / 1000).toFixed(1)} s` : `${Math.round(allowance)} ms`;
      const limit = `timeout ${this.timeoutMs / 1000} s${allowance > 0 ? ` + ${extra} for its shard` : ''}`;
      const reason = `missed heartbeats: silent for ${(silentMs / 1000).toFixed(1)} s (${limit})`;
      this.log.warn(`worker ${m.id} (${m.link.address}) ${reason}; dropping it`);
      this.membership.leave(m.id, reason);
      m.link.drop(reason);
      dropped.push(m.id);
    }
    return dropped;
  }

  private noteStall(t: number): void {
    const last = this.lastCheckAt;
    this.lastCheckAt = t;
    // Timers on a busy host run a little late; twice the period is a stall.
    if (last === undefined || t - last <= 2 * this.checkEveryMs) return;
    this.stalls.push({ from: last + this.checkEveryMs, to: t });
    if (t - last >= this.timeoutMs / 2) {
      this.log.warn(`this coordinator did not run for ${((t - last) / 1000).toFixed(1)} s (stopped, suspended or stalled); the workers' silence meanwhile is not held against them`);
    }
    const oldest = Math.min(t, ...this.membership.live().map((m) => m.lastSeen));
    while (this.stalls.length > 0 && this.stalls[0].to <= oldest) this.stalls.shift();
  }

  private stalledSince(at: number): number {
    return this.stalls.reduce((sum, s) => sum + Math.max(0, s.to - Math.max(s.from, at)), 0);
  }
}
