/** `--gpu N` picks a CUDA device; a worker that runs on something else says the flag does nothing there. */
import { strict as assert } from 'node:assert';
import { startWorker } from '../../worker/worker';
import { levelledLogger } from '../helpers/line-log';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a worker given --gpu', function () {
  this.timeout(60_000);
  const saved = process.env.CUDA_VISIBLE_DEVICES;
  after(() => (saved === undefined ? delete process.env.CUDA_VISIBLE_DEVICES : (process.env.CUDA_VISIBLE_DEVICES = saved)));

  it('selects that CUDA device, and warns once that the wasm backend it runs ignores it', async () => {
    const { log, warn } = levelledLogger();
    const worker = startWorker({ coordinator: '127.0.0.1:9', backend: 'wasm', dataDir: 'unused', cacheDir: 'unused', gpu: 1, log });
    worker.done.catch(() => undefined);
    try {
      while (!warn.some((l) => l.startsWith('cannot reach the coordinator'))) await sleep(20);
      assert.equal(process.env.CUDA_VISIBLE_DEVICES, '1');
      assert.deepEqual(
        warn.filter((l) => l.includes('--gpu')),
        ['--gpu 1 has no effect: it selects a CUDA device for the tensorflow-gpu backend, and this worker runs wasm'],
      );
    } finally {
      worker.stop();
    }
  });
});
