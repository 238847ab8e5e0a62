/**
 * What a worker says while its coordinator is away. A worker started before
 * its coordinator, or waiting out a long outage, dials every few seconds; a
 * warning per dial would bury everything else in its log (360 lines an hour
 * at the default backoff). So an outage is warned about when it starts, when
 * its cause changes, and once a minute with how long it has lasted; every
 * failed dial is still there at debug level. After the coordinator said it
 * stopped its run, its absence is expected: the same lines come at info.
 */
import type { Logger } from '../shared/logging';

export const OUTAGE_REMINDER_MS = 60_000;

/** A coordinator never reached, one lost after this worker joined it, or one that answered and refused it for now (its run is full). */
export type DialFailure = 'unreachable' | 'lost' | 'turned away';

const DIAL_FAILURES: Record<DialFailure, string> = { unreachable: 'cannot reach', lost: 'lost', 'turned away': 'turned away by' };

export class OutageLog {
  private startedAt = 0;
  private failures = 0;
  private lastCause = '';
  private lastWarnedAt = 0;
  private lastFailureAt = 0;
  private expected = false;

  constructor(
    private readonly log: Logger,
    private readonly coordinator: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A dial or a session failed for `cause`, `how` (whether this worker ever got into the run, or was turned away by a coordinator that answered). */
  failed(cause: string, how: DialFailure): void {
    const at = this.now();
    if (this.failures === 0) this.startedAt = at;
    this.failures++;
    this.lastFailureAt = at;
    const what = `${DIAL_FAILURES[how]} the coordinator at ${this.coordinator}: ${cause}`;
    const news = this.failures === 1 || cause !== this.lastCause || at - this.lastWarnedAt >= OUTAGE_REMINDER_MS;
    this.lastCause = cause;
    if (!news) {
      this.log.debug(`${what}; retrying (attempt ${this.failures})`);
      return;
    }
    this.lastWarnedAt = at;
    const lasted = this.failures === 1 ? '' : ` (${this.failures} attempts over ${Math.round((at - this.startedAt) / 1000)} s)`;
    this.log.log(this.expected ? 'info' : 'warn', `${what}; retrying${lasted}`);
  }

  /** How long the outage has lasted, from its first failure to its latest; 0 while the coordinator answers. */
  lastedMs(): number {
    return this.failures === 0 ? 0 : this.lastFailureAt - this.startedAt;
  }

  /** The coordinator stopped its run on purpose: until the worker is back in a run, its absence is no surprise. */
  expectAbsence(): void {
    this.expected = true;
  }

  /** The worker is in a run again: the next failure starts a new outage. */
  recovered(): void {
    if (this.failures > 1) this.log.info(`reached the coordinator at ${this.coordinator} after ${this.failures} failed attempts over ${Math.round((this.now() - this.startedAt) / 1000)} s`);
    this.failures = 0;
    this.lastCause = '';
    this.expected = false;
  }
}
