/**
 * A worker cut off by the network: its host's cable goes down, so nothing
 * arrives and nothing is closed. The coordinator must notice the silence
 * within the heartbeat timeout, give the shard to the other worker in the
 * same step, and take the worker back when the cable comes back, with no
 * step lost (deterministic sums: the weights equal an undisturbed run's).
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { maxAbsDiff } from '../helpers/backends';
import { runOnHost, setLink, withHosts } from '../helpers/netns';
import { fixedPort } from '../helpers/processes';
import { tmpDir } from '../helpers/tmp';
import { tokenFile } from '../helpers/token-file';
import { savedWeights } from '../helpers/weights-file';

const TRAINING = ['--model', 'mlp', '--epochs', '3', '--ema-decay', '0', '--seed', '3', '--backend', 'wasm', '--micro-batch', '16'];
const HEARTBEAT_TIMEOUT_S = 3;

const escaped = (address: string) => address.replace(/\./g, '\\.');

describe('a worker partitioned by a network link going down and coming back', function () {
  this.timeout(300_000);
  const hosts = withHosts(3);

  it('is dropped within the heartbeat timeout, its shard recomputed, re-admitted on return; no step lost', async () => {
    const [coordinatorHost, steadyHost, cutHost] = hosts();
    const root = tmpDir();
    const undisturbed = runCli(['baseline', ...TRAINING, '--run-dir', path.join(root, 'undisturbed')]);
    assert.equal(undisturbed.code, 0, undisturbed.stderr);

    const runDir = path.join(root, 'partitioned');
    const token = tokenFile();
    const port = fixedPort(1);
    const coordinator = runOnHost(coordinatorHost, [
      'coordinator', '--host', coordinatorHost.address, '--port', String(port), ...TRAINING, '--min-workers', '1', '--token-file', token,
      '--heartbeat-timeout', String(HEARTBEAT_TIMEOUT_S), '--min-shard-deadline', '60', '--run-dir', runDir,
    ]);
    const worker = (host: typeof steadyHost, name: string) =>
      runOnHost(host, ['worker', '--coordinator', `${coordinatorHost.address}:${port}`, '--token-file', token, '--backend', 'wasm', '--name', name, '--cache-dir', path.join(runDir, `cache-${name}`)]);
    const workers = [worker(steadyHost, 'steady'), worker(cutHost, 'cut')];
    await coordinator.waitFor(new RegExp(`joined from ${escaped(steadyHost.address)}`));
    await coordinator.waitFor(new RegExp(`joined from ${escaped(cutHost.address)}`));
    await coordinator.waitFor(/epoch 1\/3/);

    const cutAt = Date.now();
    setLink(cutHost, false);
    const detectedAt = await coordinator.waitFor(/worker w\d \([\d.:]+\) missed heartbeats: silent for [\d.]+ s/, 30_000);
    const seconds = (detectedAt - cutAt) / 1000;
    console.log(`      partition detected after ${seconds.toFixed(1)} s (heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s)`);
    setLink(cutHost, true);
    await coordinator.waitFor(new RegExp(`worker w3 joined from ${escaped(cutHost.address)}`), 60_000);

    assert.equal(await coordinator.exit, 0, coordinator.output());
    assert.deepEqual(await Promise.all(workers.map((w) => w.exit)), [0, 0]);
    const cutId = new RegExp(`worker (w\\d) joined from ${escaped(cutHost.address)}`).exec(coordinator.output())![1];
    assert.match(coordinator.output(), new RegExp(`reassigning shard \\d+ of step \\d+ to w\\d: worker ${cutId} left`));
    const diff = maxAbsDiff(savedWeights(path.join(runDir, 'model')), savedWeights(path.join(root, 'undisturbed', 'model')));
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
  });
});
