/**
 * A line that can come again and again, such as a spare worker turned away
 * at each redial, every few seconds for as long as the run is full: said at
 * its level the first time and at most once a minute after (with how often
 * it came meanwhile), each repeat in between at debug level.
 */
import type { Logger } from '../logging';

export const REPEAT_EVERY_MS = 60_000;
/** Keys remembered at most; past it the oldest are forgotten (and said again when they come back). */
const MAX_KEYS = 1000;

export class RepeatedLines {
  private readonly seen = new Map<string, { saidAt: number; since: number }>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Says `message` at `level` unless the same `key` was said less than a minute ago. */
  say(level: 'warn' | 'info', key: string, message: string): void {
    const at = this.now();
    const last = this.seen.get(key);
    if (last !== undefined && at - last.saidAt < REPEAT_EVERY_MS) {
      last.since++;
      this.log.debug(message);
      return;
    }
    const repeats = last !== undefined && last.since > 0 ? ` (and ${last.since} more time${last.since === 1 ? '' : 's'} in the last ${Math.round((at - last.saidAt) / 1000)} s)` : '';
    this.log.log(level, `${message}${repeats}`);
    this.seen.delete(key);
    if (this.seen.size >= MAX_KEYS) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { saidAt: at, since: 0 });
  }
}
