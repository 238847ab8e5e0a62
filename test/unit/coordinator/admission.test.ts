import { strict as assert } from 'node:assert';
import { ConcurrencyLimit, RateLimit } from '../../../coordinator/admission';

describe('admission limits', () => {
  it('a join rate limit allows a burst, then refuses until time refills it', () => {
    let clock = 0;
    const limit = new RateLimit(2, 4, () => clock);
    const first = Array.from({ length: 6 }, () => limit.tryTake());
    assert.deepEqual(first, [true, true, true, true, false, false]);
    clock += 500;
    assert.deepEqual([limit.tryTake(), limit.tryTake()], [true, false]);
  });

  it('a concurrency limit hands out at most max slots, and a released slot can be taken again', () => {
    const limit = new ConcurrencyLimit(2);
    const a = limit.tryAcquire();
    const b = limit.tryAcquire();
    assert.ok(a && b);
    assert.equal(limit.tryAcquire(), undefined);
    a();
    a();
    assert.ok(limit.tryAcquire());
    assert.equal(limit.tryAcquire(), undefined);
  });
});
