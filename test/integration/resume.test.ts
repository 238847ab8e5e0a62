/**
 * A run interrupted and resumed from its checkpoint ends exactly where the
 * uninterrupted run ends; a damaged checkpoint is passed over, and a resume
 * with different options is refused.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { maxAbsDiff } from '../helpers/backends';
import { tmpDir } from '../helpers/tmp';
import { savedWeights } from '../helpers/weights-file';
import { readSummary } from '../../shared/training/run-summary';

const OPTIONS = ['--model', 'mlp', '--epochs', '2', '--checkpoint-every', '50', '--backend', 'wasm', '--seed', '11'];

describe('resuming from checkpoints', function () {
  this.timeout(300_000);
  const root = tmpDir();
  const straight = path.join(root, 'straight');
  const interrupted = path.join(root, 'interrupted');
  let interruptedRunId = '';

  before(() => {
    assert.equal(runCli(['baseline', ...OPTIONS, '--run-dir', straight]).code, 0);
    // 113 steps per epoch: stop in the middle of epoch 2, just after the step-150 checkpoint.
    const first = runCli(['baseline', ...OPTIONS, '--max-steps', '150', '--run-dir', interrupted]);
    assert.equal(first.code, 0, first.stderr);
    interruptedRunId = readSummary(interrupted).run_id;
  });

  it('writes checkpoints at epoch ends and every N steps, keeps 3, and a best/', () => {
    const names = fs.readdirSync(path.join(straight, 'checkpoints')).sort();
    assert.deepEqual(names, ['best', 'ckpt-200', 'ckpt-226', 'ckpt-150', 'latest'].sort());
    assert.equal(fs.readFileSync(path.join(straight, 'checkpoints', 'latest'), 'utf8').trim(), 'ckpt-226');
  });

  it('--resume auto continues mid-epoch, under the same run id, to the same weights and metrics as the uninterrupted run', () => {
    const r = runCli(['baseline', ...OPTIONS, '--resume', 'auto', '--run-dir', interrupted]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming from .*ckpt-150: epoch 2, step 150/);
    const diff = maxAbsDiff(savedWeights(path.join(interrupted, 'model')), savedWeights(path.join(straight, 'model')));
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    const [a, b] = [readSummary(interrupted), readSummary(straight)];
    assert.equal(a.test_accuracy, b.test_accuracy);
    assert.deepEqual((a.history as { loss: number }[]).map((e) => e.loss.toFixed(6)), (b.history as { loss: number }[]).map((e) => e.loss.toFixed(6)));
    // Workers started with --run-id must still match the restarted run.
    assert.equal(a.run_id, interruptedRunId);
  });

  it('passes over a damaged newest checkpoint, says why, and resumes from the one before', () => {
    const runDir = path.join(root, 'damaged');
    fs.cpSync(interrupted, runDir, { recursive: true });
    fs.truncateSync(path.join(runDir, 'checkpoints', 'ckpt-226', 'weights.bin'), 100);
    const r = runCli(['baseline', ...OPTIONS, '--resume', 'auto', '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /not resuming from .*ckpt-226: weights\.bin has 100 bytes/);
    assert.match(r.stderr, /resuming from .*ckpt-200/);
  });

  it('--resume RUN_DIR starts a new run directory from the newest checkpoint of another run', () => {
    const fork = path.join(root, 'fork');
    const r = runCli(['baseline', ...OPTIONS, '--resume', straight, '--run-dir', fork]);
    assert.equal(r.code, 0, r.stderr);
    const newest = path.join(straight, 'checkpoints', 'ckpt-226');
    assert.match(r.stderr, new RegExp(`--resume ${straight}: ${newest}, the newest checkpoint that verifies \\(step 226\\)`));
    assert.equal(readSummary(fork).resumed_from, newest);
    assert.ok(maxAbsDiff(savedWeights(path.join(fork, 'model')), savedWeights(path.join(straight, 'model'))) <= 1e-6);
  });

  it('refuses to resume with different training options unless forced, naming each flag that differs', () => {
    const r = runCli(['baseline', ...OPTIONS, '--lr', '0.01', '--resume', 'auto', '--run-dir', interrupted]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the run's options differ from the checkpoint's: --lr 0\.01 \(the checkpoint: 0\.001\); give the checkpoint's, or --resume-force to resume anyway$/m);
  });
});

describe('early stopping across a resume', function () {
  this.timeout(300_000);

  it('a resumed run stops at the same epoch, with the same restored best weights, as an uninterrupted one', () => {
    const root = tmpDir();
    const options = ['--model', 'mlp', '--epochs', '12', '--early-stopping', '--patience', '1', '--min-delta', '0.01', '--restore-best-weights', '--backend', 'wasm', '--seed', '3'];
    const straight = path.join(root, 'straight');
    const resumed = path.join(root, 'resumed');
    assert.equal(runCli(['baseline', ...options, '--run-dir', straight]).code, 0);
    assert.equal(runCli(['baseline', ...options, '--max-steps', '250', '--run-dir', resumed]).code, 0);
    const r = runCli(['baseline', ...options, '--resume', 'auto', '--run-dir', resumed]);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = [readSummary(resumed), readSummary(straight)];
    assert.equal(b.stopped_early, true, 'the uninterrupted run should stop early');
    assert.equal(a.stopped_early, true);
    assert.equal(a.epochs_run, b.epochs_run);
    assert.equal(a.best_epoch, b.best_epoch);
    const diff = maxAbsDiff(savedWeights(path.join(resumed, 'model')), savedWeights(path.join(straight, 'model')));
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
  });
});
