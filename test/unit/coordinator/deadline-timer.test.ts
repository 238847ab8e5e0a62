import { strict as assert } from 'node:assert';
import { DeadlineTimer } from '../../../coordinator/deadline-timer';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a deadline on others', () => {
  it('is missed when it comes', async () => {
    let missed = 0;
    new DeadlineTimer(() => missed++, 20);
    await sleep(100);
    assert.equal(missed, 1);
  });

  it('can be cleared before it comes', async () => {
    let missed = 0;
    new DeadlineTimer(() => missed++, 20).clear();
    await sleep(100);
    assert.equal(missed, 0);
  });

  it('moves on by the time its timer came late (this process did not run), so what others sent meanwhile is read first', async () => {
    let missed = 0;
    // A clock that jumps 300 ms while the 20 ms timer waits: this process was stopped for that long.
    let jump = 0;
    const now = () => Date.now() + jump;
    new DeadlineTimer(() => missed++, 20, 100, now);
    jump = 300;
    await sleep(120);
    assert.equal(missed, 0, 'not at the late timer');
    await sleep(400);
    assert.equal(missed, 1, 'once the time it was late has passed too');
  });
});
