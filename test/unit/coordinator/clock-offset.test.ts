import { strict as assert } from 'node:assert';
import { ClockOffset } from '../../../coordinator/clock-offset';

/** One exchange between a coordinator and a worker whose clock is `offset` ms ahead, with the given one-way delays. */
function exchange(at: number, offset: number, down: number, work: number, up: number) {
  return { sent: at, arrived: at + down + offset, answered: at + down + work + offset, received: at + down + work + up };
}

describe("a worker's clock offset", () => {
  it('is exact when the shard and its answer take equally long on the wire', () => {
    const clock = new ClockOffset();
    clock.add(exchange(1000, 5000, 0.4, 30, 0.4));
    const e = clock.estimate()!;
    assert.equal(e.offsetMs, 5000);
    assert.ok(Math.abs(e.errorMs - 0.4) < 1e-9);
  });

  it('is off by at most half the round trip when they do not', () => {
    const clock = new ClockOffset();
    clock.add(exchange(1000, -250, 0.2, 30, 1.8));
    const e = clock.estimate()!;
    assert.ok(Math.abs(e.offsetMs - -250) <= e.errorMs, `${e.offsetMs} ± ${e.errorMs}`);
    assert.ok(Math.abs(e.errorMs - 1) < 1e-9);
  });

  it('trusts the recent exchange with the shortest round trip, not the latest', () => {
    const clock = new ClockOffset(4);
    clock.add(exchange(1000, 70, 0.3, 30, 0.3));
    clock.add(exchange(2000, 70, 9, 30, 0.5)); // queued behind other traffic
    const e = clock.estimate()!;
    assert.ok(Math.abs(e.offsetMs - 70) < 1e-9);
    assert.ok(Math.abs(e.errorMs - 0.3) < 1e-9);
  });

  it('forgets exchanges older than its window', () => {
    const clock = new ClockOffset(2);
    clock.add(exchange(1000, 10, 0.1, 30, 0.1));
    clock.add(exchange(2000, 10, 2, 30, 2));
    clock.add(exchange(3000, 10, 3, 30, 1));
    assert.ok(Math.abs(clock.estimate()!.errorMs - 2) < 1e-9);
  });

  it('has no estimate before an exchange, and ignores one whose round trip is negative', () => {
    const clock = new ClockOffset();
    assert.equal(clock.estimate(), undefined);
    clock.add({ sent: 100, arrived: 0, answered: 50, received: 110 }); // the worker claims 50 ms of work in a 10 ms round trip
    assert.equal(clock.estimate(), undefined);
  });
});
