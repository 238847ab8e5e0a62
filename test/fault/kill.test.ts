/**
 * Determinism under failure, with real processes and SIGKILL: workers killed
 * and replaced, or the coordinator killed and restarted with --resume auto,
 * end with the weights of an undisturbed run.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointStore } from '../../coordinator/checkpoint-store';
import { CHECKPOINT_FILES } from '../../coordinator/checkpoint-files';
import { readSummary } from '../../shared/training/run-summary';
import { runCli } from '../helpers/cli';
import { maxAbsDiff } from '../helpers/backends';
import { exitOf, fixedPort, startCoordinatorProcess, startWorkerProcess, waitForStep } from '../helpers/processes';
import { tmpDir } from '../helpers/tmp';
import { savedWeights } from '../helpers/weights-file';

/**
 * Deterministic sums (--micro-batch): however failures re-split a batch, the sums are the same, so any
 * difference from the undisturbed run means a step was lost or repeated. Early stopping ends the run
 * after its second of four epochs (no epoch can beat the first by the 0.5 min_delta; patience 1), so
 * its state must survive the kills too.
 */
const TRAINING = ['--model', 'mlp', '--epochs', '4', '--ema-decay', '0', '--seed', '5', '--backend', 'wasm', '--micro-batch', '16',
  '--early-stopping', '--monitor', 'val_accuracy', '--min-delta', '0.5', '--patience', '1'];

describe('training through failures (SIGKILL)', function () {
  this.timeout(600_000);
  const root = tmpDir();
  let undisturbed: Float32Array;

  before(() => {
    const r = runCli(['baseline', ...TRAINING, '--run-dir', path.join(root, 'undisturbed')]);
    assert.equal(r.code, 0, r.stderr);
    undisturbed = savedWeights(path.join(root, 'undisturbed', 'model'));
    const s = readSummary(path.join(root, 'undisturbed'));
    assert.equal(s.epochs_run, 2);
    assert.equal(s.stopped_early, true);
  });

  it('workers killed at random steps and replaced: the same weights as an undisturbed run', async () => {
    const runDir = path.join(root, 'workers-killed');
    const c = await startCoordinatorProcess(['--port', '0', ...TRAINING, '--min-workers', '1', '--run-dir', runDir]);
    const cache = (i: number) => ['--cache-dir', path.join(runDir, `cache-${i}`)];
    const workers = [1, 2, 3].map((i) => startWorkerProcess(c.port, `w${i}`, cache(i)));
    await waitForStep(c.port, 15 + Math.floor(Math.random() * 30));
    workers[0].kill('SIGKILL');
    await waitForStep(c.port, 100 + Math.floor(Math.random() * 60));
    workers[1].kill('SIGKILL');
    workers.push(startWorkerProcess(c.port, 'w4', cache(4)));
    assert.equal(await exitOf(c.child), 0, c.stderr());
    assert.match(c.stderr(), /worker w1 .* left: (stream|disconnected)/);
    const diff = maxAbsDiff(savedWeights(path.join(runDir, 'model')), undisturbed);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    assert.equal(readSummary(runDir).epochs_run, 2);
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill();
  });

  it('the coordinator killed and restarted with --resume auto: workers re-join, same weights', async () => {
    const runDir = path.join(root, 'coordinator-killed');
    const port = fixedPort(2);
    const args = ['--port', String(port), ...TRAINING, '--min-workers', '2', '--checkpoint-every', '20', '--run-dir', runDir, '--run-id', 'kill-test'];
    const first = await startCoordinatorProcess(args);
    const workers = [1, 2].map((i) => startWorkerProcess(port, `w${i}`, ['--cache-dir', path.join(runDir, `cache-${i}`)]));
    await waitForStep(port, 120 + Math.floor(Math.random() * 60));
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const second = await startCoordinatorProcess([...args, '--resume', 'auto']);
    assert.equal(await exitOf(second.child), 0, second.stderr());
    assert.match(second.stderr(), /resuming from .*ckpt-\d+/);
    assert.deepEqual(await Promise.all(workers.map(exitOf)), [0, 0]);
    const diff = maxAbsDiff(savedWeights(path.join(runDir, 'model')), undisturbed);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    assert.equal(readSummary(runDir).epochs_run, 2);
    for (const dir of fs.readdirSync(path.join(runDir, 'checkpoints')).filter((d) => d.startsWith('ckpt-'))) {
      assert.equal(CheckpointStore.verify(path.join(runDir, 'checkpoints', dir)), undefined, `${dir} verifies`);
    }
  });
});

describe('a coordinator killed during a checkpoint write', function () {
  this.timeout(300_000);

  it('loses nothing: the restarted coordinator passes over the torn write, says why, and ends with the undisturbed weights', async () => {
    const root = tmpDir();
    const options = ['--model', 'mlp', '--epochs', '2', '--ema-decay', '0', '--seed', '5', '--backend', 'wasm', '--checkpoint-every', '40', '--micro-batch', '16'];
    assert.equal(runCli(['baseline', ...options, '--run-dir', path.join(root, 'straight')]).code, 0);
    const runDir = path.join(root, 'killed');
    const port = fixedPort(3);
    const args = ['--port', String(port), ...options, '--run-dir', runDir, '--run-id', 'torn-write'];
    // Every checkpoint write pauses before its manifest: the second one (step 80) is where the kill lands.
    const first = await startCoordinatorProcess(args, { GRADFLEET_TEST_CHECKPOINT_PAUSE_MS: '2000' });
    const worker = startWorkerProcess(port, 'w1', ['--cache-dir', path.join(runDir, 'cache')]);
    const checkpoints = path.join(runDir, 'checkpoints');
    for (;;) {
      const names = fs.existsSync(checkpoints) ? fs.readdirSync(checkpoints) : [];
      if (names.includes('ckpt-40') && names.some((n) => /^ckpt-80\.tmp-/.test(n))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const second = await startCoordinatorProcess([...args, '--resume', 'auto']);
    assert.equal(await exitOf(second.child), 0, second.stderr());
    assert.match(second.stderr(), /not resuming from .*ckpt-80\.tmp-\d+: a checkpoint write that never finished/);
    assert.match(second.stderr(), /resuming from .*ckpt-40: epoch 1, step 40/);
    assert.equal(await exitOf(worker), 0);
    const diff = maxAbsDiff(savedWeights(path.join(runDir, 'model')), savedWeights(path.join(root, 'straight', 'model')));
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    for (const c of new CheckpointStore(runDir).list()) assert.equal(CheckpointStore.verify(c.dir, CHECKPOINT_FILES), undefined);
  });
});
