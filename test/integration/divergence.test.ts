/**
 * A model that diverges (from its first step: a layer initialised to a
 * weight too large for float32; or after its checkpoint) stops the run with
 * one line that says so, in one process and in the cluster alike. The cluster used to refuse every
 * worker's NaN gradient as bad input and hand the shard round for ever.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

/** Flatten, then a softmax layer whose every kernel weight is 1e39: +Infinity as float32. */
function divergingModel(): string {
  const dense = { units: 10, activation: 'softmax', kernel_initializer: { class_name: 'Constant', config: { value: 1e39 } }, bias_initializer: { class_name: 'Zeros', config: {} } };
  const topology = { class_name: 'Sequential', config: { name: 'diverging', layers: [{ class_name: 'Flatten', config: { batch_input_shape: [null, 28, 28, 1] } }, { class_name: 'Dense', config: dense }] } };
  const file = path.join(tmpDir(), 'model.json');
  fs.writeFileSync(file, JSON.stringify(topology));
  return file;
}

function expectDiverged(r: ReturnType<typeof runCli>, where: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^gradfleet: failed: training diverged at step 0: /);
  assert.match(last, where);
  assert.match(last, /a lower --lr may help; no checkpoint was written yet/);
}

describe('a run whose model diverges', function () {
  this.timeout(180_000);
  const training = ['--epochs', '1', '--max-steps', '5', '--backend', 'wasm'];

  it('stops in one process with one line, instead of training on NaN weights', () => {
    expectDiverged(runCli(['baseline', '--model', divergingModel(), ...training, '--run-dir', path.join(tmpDir(), 'run')]), /the gradient held NaN/);
  });

  it('stops in the cluster with one line once every worker has computed NaN', () => {
    expectDiverged(runCli(['local', '--workers', '2', '--model', divergingModel(), ...training, '--run-dir', path.join(tmpDir(), 'run')]), /shard \d's gradient held NaN 3 times \(from w\d, w\d, w\d\)/);
  });

  it('names its newest checkpoint and asks for a lower --lr and --resume-force, where the same options would diverge again', () => {
    const runDir = path.join(tmpDir(), 'run');
    const first = runCli(['baseline', '--model', 'mlp', '--epochs', '1', '--max-steps', '5', '--checkpoint-every', '5', '--backend', 'wasm', '--run-dir', runDir]);
    assert.equal(first.code, 0, first.stderr);
    // The weights of step 5 made too large to compute with, the manifest made to vouch for them: the resumed run diverges at once.
    const checkpoint = path.join(runDir, 'checkpoints', 'ckpt-5');
    const weights = new Float32Array(fs.statSync(path.join(checkpoint, 'weights.bin')).size / 4).fill(1e38);
    fs.writeFileSync(path.join(checkpoint, 'weights.bin'), weights);
    const manifest = JSON.parse(fs.readFileSync(path.join(checkpoint, 'MANIFEST.json'), 'utf8'));
    manifest.files['weights.bin'].sha256 = createHash('sha256').update(new Uint8Array(weights.buffer)).digest('hex');
    fs.writeFileSync(path.join(checkpoint, 'MANIFEST.json'), JSON.stringify(manifest));

    const r = runCli(['baseline', '--model', 'mlp', '--epochs', '1', '--max-steps', '10', '--checkpoint-every', '5', '--backend', 'wasm', '--run-dir', runDir, '--resume', 'auto']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr.trim().split('\n').at(-1),
      `gradfleet: failed: training diverged at step 5: the gradient held NaN; a lower --lr may help; the newest checkpoint is ${checkpoint} (step 5); continue from it with a lower --lr and --run-dir ${runDir} --resume auto --resume-force`,
    );
  });
});
