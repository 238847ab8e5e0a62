import { strict as assert } from 'node:assert';
import { HeartbeatMonitor } from '../../../coordinator/heartbeat-monitor';
import { Membership } from '../../../coordinator/membership';
import { StepScheduler } from '../../../coordinator/step-scheduler';
import { loadMnistSample } from '../../../shared/data/mnist-sample';
import { getLogger } from '../../../shared/logging';
import { buildPreset } from '../../../shared/models/presets';
import { useBackend } from '../../helpers/backends';
import { joinWorkers } from '../../helpers/in-memory-cluster';

describe('the heartbeat monitor', () => {
  const data = loadMnistSample();
  const log = getLogger({ component: 'test' });
  before(() => useBackend('wasm'));

  const indices = Uint32Array.from({ length: 64 }, (_, i) => i);
  const settle = () => new Promise((r) => setTimeout(r, 50));

  /** Workers in memory, a fake clock, and the monitor wired to the scheduler's allowance as the coordinator wires it. */
  function setUp(workers: number, equalShards = false) {
    let clock = 1_000_000;
    const membership = new Membership(8, () => clock);
    const model = buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 9 });
    const sizes = model.trainableWeights.map((w) => w.read().size);
    const scheduler = new StepScheduler(membership, { minWorkers: 1, deadlines: { factor: 5, minMs: 600_000, firstMs: 600_000 }, microBatch: 0, equalShards, gradientSizes: sizes }, log);
    const nodes = joinWorkers(workers, membership, scheduler, model, () => buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 1 }), data);
    const monitor = new HeartbeatMonitor(membership, { timeoutMs: 10_000, now: () => clock, allowanceMs: (id) => scheduler.silenceAllowanceMs(id) }, log);
    return { membership, scheduler, nodes, monitor, advance: (ms: number) => (clock += ms) };
  }

  it('keeps a worker that is heard from within the timeout', () => {
    const c = setUp(2);
    c.advance(9_000);
    c.membership.touch(c.nodes[0].member.id);
    c.advance(9_000);
    assert.deepEqual(c.monitor.check(), [c.nodes[1].member.id]);
    assert.equal(c.membership.live().length, 1);
  });

  it('does not count as silence the time this process did not run (stopped, suspended): the heartbeats of that time wait unread', () => {
    const c = setUp(1);
    /** The monitor's checks every period for `ms`, as its interval timer makes them; the workers they dropped. */
    const checksFor = (ms: number) => {
      const dropped: string[] = [];
      for (let t = 0; t < ms; t += c.monitor.checkEveryMs) {
        c.advance(c.monitor.checkEveryMs);
        dropped.push(...c.monitor.check());
      }
      return dropped;
    };
    assert.deepEqual(checksFor(5_000), []);
    c.advance(15_000); // the next check comes 15 s late
    assert.deepEqual(c.monitor.check(), []);
    // Silence after it counts again: 5 s before it and 5 s after make the 10 s timeout.
    assert.deepEqual(checksFor(4_500), []);
    assert.deepEqual(checksFor(1_000), ['w1']);
  });

  it('drops a worker silent past the timeout, says for how long, and closes its link', () => {
    const c = setUp(1);
    c.advance(10_001);
    assert.deepEqual(c.monitor.check(), ['w1']);
    assert.match(c.nodes[0].closedWith!, /^missed heartbeats: silent for 10\.0 s \(timeout 10 s\)$/);
  });

  it('hands the silent worker’s shard to a live one within the same step', async () => {
    const c = setUp(2);
    // A measured step first: the silent worker's allowance is then its shard's few milliseconds at its speed.
    await c.scheduler.computeBatch({ step: 0, epoch: 0, indices, seed: 1 });
    const before = c.nodes[1].computed.length;
    c.nodes[0].fault = 'silent';
    const pending = c.scheduler.computeBatch({ step: 1, epoch: 0, indices, seed: 1 });
    await settle();
    c.membership.touch(c.nodes[1].member.id);
    c.advance(5_000);
    c.membership.touch(c.nodes[1].member.id);
    c.advance(6_000);
    assert.deepEqual(c.monitor.check(), ['w1']);
    const sums = await pending;
    assert.equal(sums.count, 64);
    assert.deepEqual(c.nodes[1].computed.slice(before).map((s) => s.size).reduce((a, b) => a + b), 64);
  });

  it('gives a worker computing a shard twice the time its measured speed needs for it, on top of the timeout', async () => {
    const c = setUp(2, true);
    c.membership.recordShard('w1', 32, 16);
    c.nodes[0].fault = 'silent';
    const pending = c.scheduler.computeBatch({ step: 0, epoch: 0, indices, seed: 1 });
    while (c.nodes[1].computed.length === 0) await settle();
    // 32 samples at 2 samples/s: 16 s, twice that allowed. w2 has finished its shard: it gets none.
    assert.equal(c.scheduler.silenceAllowanceMs('w1'), 32_000);
    assert.equal(c.scheduler.silenceAllowanceMs('w2'), 0);
    c.advance(41_000);
    c.membership.touch('w2');
    assert.deepEqual(c.monitor.check(), []);
    // Checks come every half second; a longer gap would be this process stalling.
    c.advance(500);
    c.membership.touch('w2');
    assert.deepEqual(c.monitor.check(), []);
    c.advance(501);
    c.membership.touch('w2');
    assert.deepEqual(c.monitor.check(), ['w1']);
    assert.equal(c.nodes[0].closedWith, 'missed heartbeats: silent for 42.0 s (timeout 10 s + 32.0 s for its shard)');
    assert.equal((await pending).count, 64);
  });

  it('counts every shard a worker holds: it computes them one after another', async () => {
    const c = setUp(2, true);
    c.membership.recordShard('w2', 32, 16);
    for (const n of c.nodes) n.fault = 'silent';
    const pending = c.scheduler.computeBatch({ step: 0, epoch: 0, indices, seed: 1 });
    await settle();
    assert.equal(c.scheduler.silenceAllowanceMs('w2'), 32_000);
    c.membership.leave('w1', 'test');
    await settle();
    // w1's 32 samples went to w2, behind its own 32: 64 samples at 2 samples/s, twice that allowed.
    assert.equal(c.scheduler.silenceAllowanceMs('w2'), 64_000);
    c.scheduler.stop('test over');
    await assert.rejects(pending);
  });

  it('gives a worker not yet measured its shard’s deadline, and a worker with no shard nothing', async () => {
    const c = setUp(2);
    c.nodes[0].fault = 'silent';
    const pending = c.scheduler.computeBatch({ step: 0, epoch: 0, indices, seed: 1 });
    // Until w2 has handed its shard in (a fixed wait was once too short on a busy host).
    while (c.nodes[1].computed.length === 0) await settle();
    assert.equal(c.scheduler.silenceAllowanceMs('w1'), 600_000);
    assert.equal(c.scheduler.silenceAllowanceMs('w2'), 0);
    c.scheduler.stop('test over');
    await assert.rejects(pending);
  });

  it('asks workers for heartbeats often enough that one lost heartbeat is not fatal', () => {
    assert.ok(new HeartbeatMonitor(new Membership(1), { timeoutMs: 10_000 }, log).intervalMs * 3 < 10_000);
    assert.ok(new HeartbeatMonitor(new Membership(1), { timeoutMs: 400 }, log).intervalMs * 3 < 400);
  });
});
