/**
 * What a worker's options promise: `--gpu N` picks a CUDA device, and says
 * it does nothing on another backend; `--max-wait S` ends a worker whose
 * coordinator has been gone that long, where by default it waits for ever.
 */
import { strict as assert } from 'node:assert';
import { RunFailedError } from '../../shared/errors';
import { startWorker } from '../../worker/worker';
import { runCli } from '../helpers/cli';
import { levelledLogger } from '../helpers/line-log';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Nothing listens on the discard port of this host. */
const NOBODY = '127.0.0.1:9';

describe('a worker given --gpu', function () {
  this.timeout(60_000);
  const saved = process.env.CUDA_VISIBLE_DEVICES;
  after(() => (saved === undefined ? delete process.env.CUDA_VISIBLE_DEVICES : (process.env.CUDA_VISIBLE_DEVICES = saved)));

  it('selects that CUDA device, and warns once that the wasm backend it runs ignores it', async () => {
    const { log, warn } = levelledLogger();
    const worker = startWorker({ coordinator: NOBODY, backend: 'wasm', dataDir: 'unused', cacheDir: 'unused', gpu: 1, log });
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

describe('a worker given --max-wait', function () {
  this.timeout(60_000);

  it('gives up once no coordinator has answered for that long, having dialled all along', async () => {
    const { log, debug } = levelledLogger();
    const started = Date.now();
    const worker = startWorker({ coordinator: NOBODY, backend: 'wasm', dataDir: 'unused', cacheDir: 'unused', maxWaitMs: 1500, reconnect: { initialMs: 100, maxMs: 200, multiplier: 2 }, log });
    await assert.rejects(worker.done, (err: Error) => err instanceof RunFailedError && /^no coordinator at 127\.0\.0\.1:9 for \d+ s \(--max-wait 1\.5\); this worker gives up$/.test(err.message));
    assert.ok(Date.now() - started >= 1500);
    assert.ok(debug.filter((l) => l.startsWith('cannot reach the coordinator')).length >= 3, 'it kept dialling until then');
  });

  it('ends the worker command with that line and exit code 1', () => {
    const r = runCli(['worker', '--coordinator', NOBODY, '--backend', 'wasm', '--max-wait', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /^gradfleet: failed: no coordinator at 127\.0\.0\.1:9 for \d+ s \(--max-wait 1\); this worker gives up$/);
  });
});
