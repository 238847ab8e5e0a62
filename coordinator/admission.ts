/**
 * Bounds on what strangers can make the coordinator do: how fast workers
 * may join (a token bucket) and how many dataset downloads run at once.
 * A refused request gets RESOURCE_EXHAUSTED from the adapter and a log line;
 * nothing queues up without bound.
 */

export class RateLimit {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    private readonly burst: number = 2 * perSecond,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  tryTake(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class ConcurrencyLimit {
  private active = 0;

  constructor(readonly max: number) {}

  /** A release function, or undefined when all slots are taken. Releasing twice is harmless. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}
