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

  function setUp(workers: number) {
    let clock = 1_000_000;
    const membership = new Membership(8, () => clock);
    const model = buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 9 });
    const sizes = model.trainableWeights.map((w) => w.read().size);
    const scheduler = new StepScheduler(membership, { minWorkers: 1, deadlineFactor: 5, minDeadlineMs: 600_000, microBatch: 0, gradientSizes: sizes }, log);
    const nodes = joinWorkers(workers, membership, scheduler, model, () => buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 1 }), data);
    const monitor = new HeartbeatMonitor(membership, 10_000, log, () => clock);
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

  it('drops a worker silent past the timeout, says for how long, and closes its link', () => {
    const c = setUp(1);
    c.advance(10_001);
    assert.deepEqual(c.monitor.check(), ['w1']);
    assert.match(c.nodes[0].closedWith!, /^missed heartbeats: silent for 10\.0 s \(timeout 10 s\)$/);
  });

  it('hands the silent worker’s shard to a live one within the same step', async () => {
    const c = setUp(2);
    c.nodes[0].fault = 'silent';
    const indices = Uint32Array.from({ length: 64 }, (_, i) => i);
    const pending = c.scheduler.computeBatch({ step: 0, epoch: 0, indices, seed: 1 });
    await new Promise((r) => setTimeout(r, 50));
    c.membership.touch(c.nodes[1].member.id);
    c.advance(5_000);
    c.membership.touch(c.nodes[1].member.id);
    c.advance(6_000);
    assert.deepEqual(c.monitor.check(), ['w1']);
    const sums = await pending;
    assert.equal(sums.count, 64);
    assert.deepEqual(c.nodes[1].computed.map((s) => s.size).reduce((a, b) => a + b), 64);
  });

  it('asks workers for heartbeats often enough that one lost heartbeat is not fatal', () => {
    assert.ok(new HeartbeatMonitor(new Membership(1), 10_000, log).intervalMs * 3 < 10_000);
    assert.ok(new HeartbeatMonitor(new Membership(1), 400, log).intervalMs * 3 < 400);
  });
});
