/**
 * Multi-host training for real inside one machine: the coordinator and each
 * worker live in their own network namespace with their own address, and
 * talk over a bridge, as separate hosts would.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI } from '../helpers/cli';
import { createTopology, netnsUnavailable, Topology } from '../helpers/netns';
import { tmpDir } from '../helpers/tmp';

function inNamespace(ns: string, args: string[], log: string[]): Promise<number | null> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('workers on separate hosts (network namespaces)', function () {
  this.timeout(300_000);
  let topology: Topology | undefined;

  before(function () {
    const why = netnsUnavailable();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    topology = createTopology(3);
  });

  after(() => topology?.destroy());

  it('train a run over the bridge, each worker with its own address', async () => {
    const [coordinatorHost, ...workerHosts] = topology!.hosts;
    const runDir = path.join(tmpDir(), 'run');
    const log: string[] = [];
    const port = 50_000 + (process.pid % 1000);
    const coordinator = inNamespace(
      coordinatorHost.ns,
      ['coordinator', '--host', coordinatorHost.address, '--port', String(port), '--model', 'mlp', '--epochs', '1', '--min-workers', '2', '--backend', 'wasm', '--run-dir', runDir],
      log,
    );
    const workers = workerHosts.map((h, i) =>
      inNamespace(h.ns, ['worker', '--coordinator', `${coordinatorHost.address}:${port}`, '--backend', 'wasm', '--name', `host-${i + 1}`, '--cache-dir', path.join(runDir, `cache-${i}`)], log),
    );
    assert.equal(await coordinator, 0, log.join(''));
    assert.deepEqual(await Promise.all(workers), [0, 0]);
    const joined = log.join('').match(/joined from [\d.]+:\d+/g) ?? [];
    const addresses = joined.map((j) => j.replace(/^joined from /, '').split(':')[0]).sort();
    assert.deepEqual(addresses, workerHosts.map((h) => h.address).sort());
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    assert.equal(summary.workers, 2);
    assert.ok(summary.test_accuracy > 0.85);
  });
});
