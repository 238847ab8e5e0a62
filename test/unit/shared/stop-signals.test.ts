import { strict as assert } from 'node:assert';
import { onStopSignal, startStoppable, STOP_SIGNALS } from '../../../shared/stop-signals';

const counts = () => STOP_SIGNALS.map((s) => process.listenerCount(s));

describe('the signals that stop a gradfleet process', () => {
  it("are Ctrl-C, SIGTERM and SIGHUP (a closed terminal), as for torchrun's agent", () => assert.deepEqual([...STOP_SIGNALS], ['SIGINT', 'SIGTERM', 'SIGHUP']));

  it('run the handler once, at the first; the same signal again gets its default action (a second Ctrl-C ends a hung shutdown), another is absorbed', async () => {
    const before = counts();
    let calls = 0;
    const remove = onStopSignal(() => calls++);
    assert.deepEqual(counts(), before.map((n) => n + 1));
    process.kill(process.pid, 'SIGHUP');
    while (process.listenerCount('SIGHUP') > before[2]) await new Promise((resolve) => setImmediate(resolve));
    process.kill(process.pid, 'SIGTERM');
    while (process.listenerCount('SIGTERM') > before[1]) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 1);
    assert.deepEqual(counts(), [before[0] + 1, before[1], before[2]], 'SIGINT is still absorbed; SIGHUP and SIGTERM would now end the process');
    remove();
    assert.deepEqual(counts(), before);
  });

  it('can be given up before any arrives', () => {
    const before = counts();
    onStopSignal(() => assert.fail('no signal was sent'))();
    assert.deepEqual(counts(), before);
  });

  it('heard while something starts, stop it once it is up', async () => {
    const before = process.listenerCount('SIGTERM');
    const stopped: string[] = [];
    const { started, stopListening } = await startStoppable(
      async () => {
        process.kill(process.pid, 'SIGTERM');
        while (process.listenerCount('SIGTERM') > before) await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(stopped, [], 'nothing to stop yet');
        return 'coordinator';
      },
      (what) => stopped.push(what),
    );
    assert.equal(started, 'coordinator');
    assert.deepEqual(stopped, ['coordinator']);
    stopListening();
  });

  it('stop listening when the start fails', async () => {
    const before = counts();
    await assert.rejects(
      startStoppable(
        () => Promise.reject(new Error('port in use')),
        () => assert.fail('nothing started'),
      ),
      /port in use/,
    );
    assert.deepEqual(counts(), before);
  });
});
