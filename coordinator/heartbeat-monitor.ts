/**
 * The failure detector for silent workers. A killed process closes its
 * connection and leaves at once; a worker behind a dead link or a hung host
 * sends nothing and closes nothing, so silence itself must end its
 * membership. Any message counts as a sign of life (Membership.touch);
 * workers send a heartbeat at a quarter of the timeout, so only a worker
 * that misses several in a row is dropped, and its shard goes to the others
 * through the scheduler's `left` handler.
 *
 * A worker is silent while it computes a single pass (a shard, or one
 * micro-batch), so the timeout must stay above the slowest pass.
 */
import type { Logger } from '../shared/logging';
import type { Membership } from './membership';

export class HeartbeatMonitor {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly membership: Membership,
    readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** How often workers should send a heartbeat so that missing one is not fatal. */
  get intervalMs(): number {
    return Math.max(50, Math.min(2000, Math.floor(this.timeoutMs / 4)));
  }

  start(): void {
    this.timer = setInterval(() => this.check(), Math.max(25, Math.min(500, Math.floor(this.timeoutMs / 10))));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Drops every member silent for longer than the timeout; returns their ids. */
  check(): string[] {
    const t = this.now();
    const dropped: string[] = [];
    for (const m of this.membership.live()) {
      const silentMs = t - m.lastSeen;
      if (silentMs <= this.timeoutMs) continue;
      const reason = `missed heartbeats: silent for ${(silentMs / 1000).toFixed(1)} s (timeout ${this.timeoutMs / 1000} s)`;
      this.log.warn(`worker ${m.id} (${m.link.address}) ${reason}; dropping it`);
      this.membership.leave(m.id, reason);
      m.link.close(reason);
      dropped.push(m.id);
    }
    return dropped;
  }
}
