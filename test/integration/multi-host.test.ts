/**
 * Multi-host training for real inside one machine: the coordinator and each
 * worker live in their own network namespace with their own address, and
 * talk over a bridge, as separate hosts would.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { runOnHost, withHosts } from '../helpers/netns';
import { fixedPort } from '../helpers/processes';
import { readSummary } from '../../shared/training/run-summary';
import { tmpDir } from '../helpers/tmp';
import { tokenFile } from '../helpers/token-file';

describe('workers on separate hosts (network namespaces)', function () {
  this.timeout(300_000);
  const hosts = withHosts(3);

  it('train a run over the bridge, each worker with its own address', async () => {
    const [coordinatorHost, ...workerHosts] = hosts();
    const runDir = path.join(tmpDir(), 'run');
    const port = fixedPort(0);
    const token = tokenFile();
    const coordinator = runOnHost(coordinatorHost, [
      'coordinator', '--host', coordinatorHost.address, '--port', String(port), '--token-file', token, '--model', 'mlp', '--epochs', '1', '--min-workers', '2', '--backend', 'wasm', '--run-dir', runDir,
    ]);
    const workers = workerHosts.map((h, i) =>
      runOnHost(h, ['worker', '--coordinator', `${coordinatorHost.address}:${port}`, '--token-file', token, '--backend', 'wasm', '--name', `host-${i + 1}`, '--cache-dir', path.join(runDir, `cache-${i}`)]),
    );
    assert.equal(await coordinator.exit, 0, coordinator.output());
    assert.deepEqual(await Promise.all(workers.map((w) => w.exit)), [0, 0]);
    const joined = coordinator.output().match(/joined from [\d.]+:\d+/g) ?? [];
    const addresses = joined.map((j) => j.replace(/^joined from /, '').split(':')[0]).sort();
    assert.deepEqual(addresses, workerHosts.map((h) => h.address).sort());
    const summary = readSummary(runDir);
    assert.equal(summary.workers, 2);
    assert.ok(summary.test_accuracy > 0.85);
  });
});
