/**
 * How far a worker's clock is ahead of the coordinator's, estimated the way
 * NTP does it from request/answer exchanges. The coordinator sends a shard
 * at c1 (its clock); the worker gets it at w1 and answers at w2 (its clock);
 * the answer is in at c2. Then
 *
 *   offset = ((w1 - c1) + (w2 - c2)) / 2,   round trip = (c2 - c1) - (w2 - w1),
 *
 * and the offset is exact when both directions took equally long, and wrong
 * by at most half the round trip otherwise. Queueing only ever adds delay,
 * so of the recent exchanges the one with the shortest round trip is
 * trusted (NTP's clock filter, RFC 5905 §10).
 */

export interface ClockExchange {
  /** Coordinator clock: the shard was sent. */
  sent: number;
  /** Worker clock: the shard arrived. */
  arrived: number;
  /** Worker clock: the answer was sent. */
  answered: number;
  /** Coordinator clock: the answer was in. */
  received: number;
}

export interface OffsetEstimate {
  /** Worker clock minus coordinator clock, ms. */
  offsetMs: number;
  /** At most this far off: half the round trip of the exchange it came from. */
  errorMs: number;
}

export class ClockOffset {
  private readonly recent: OffsetEstimate[] = [];

  constructor(private readonly window = 32) {}

  add(x: ClockExchange): void {
    const roundTrip = x.received - x.sent - (x.answered - x.arrived);
    if (!(roundTrip >= 0)) return; // clocks stepped mid-exchange, or nonsense: not evidence
    this.recent.push({ offsetMs: (x.arrived - x.sent + (x.answered - x.received)) / 2, errorMs: roundTrip / 2 });
    if (this.recent.length > this.window) this.recent.shift();
  }

  /** The estimate from the recent exchange with the shortest round trip; undefined before the first. */
  estimate(): OffsetEstimate | undefined {
    return this.recent.reduce<OffsetEstimate | undefined>((best, e) => (best === undefined || e.errorMs < best.errorMs ? e : best), undefined);
  }
}
