/**
 * A worker on a host without the run's data trains anyway: it streams the
 * dataset from the coordinator once, checks it against the run's SHA-256,
 * keeps it in its cache, and the next run on the same data starts from the
 * cache without a transfer.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCoordinator } from '../../coordinator/coordinator';
import { startWorker } from '../../worker/worker';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { writeIdxDataset } from '../helpers/idx-fixtures';
import { lineLogger } from '../helpers/line-log';
import { tmpDir } from '../helpers/tmp';

describe('a worker without the dataset', function () {
  this.timeout(120_000);
  before(() => useBackend('wasm'));

  /** One short run on an IDX dataset that only the coordinator's memory holds once it has started; what the worker logged. */
  async function trainOnce(cacheDir: string): Promise<string[]> {
    const dataDir = path.join(tmpDir(), 'idx');
    writeIdxDataset(dataDir, { train: 96, test: 32, seed: 3 });
    const coordinator = await startCoordinator(coordinatorOptionsFor({ dataset: `idx:${dataDir}`, model: 'mlp', epochs: '1', maxSteps: '3', batchSize: '16', backend: 'wasm', runDir: tmpDir(), port: '0' }));
    fs.rmSync(dataDir, { recursive: true });
    const { log, lines } = lineLogger('info');
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir, log });
    const result = await coordinator.result;
    await worker.done;
    assert.equal(result.summary.steps_run, 3);
    return lines;
  }

  it('streams it from the coordinator once, then trains from its cache', async () => {
    const cacheDir = path.join(tmpDir(), 'cache');
    const first = await trainOnce(cacheDir);
    assert.ok(first.some((l) => /not here, streaming it from the coordinator/.test(l)), first.join('\n'));
    const cached = fs.readdirSync(cacheDir);
    assert.equal(cached.length, 1);
    assert.match(cached[0], /^[0-9a-f]{64}\.gfds$/);

    const second = await trainOnce(cacheDir);
    assert.ok(second.some((l) => l.includes(`using the cached copy ${path.join(cacheDir, cached[0])}`)), second.join('\n'));
    assert.ok(!second.some((l) => /streaming it from the coordinator/.test(l)));
  });
});
