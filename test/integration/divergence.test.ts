/**
 * A model that diverges (here from its first step: a layer initialised to a
 * weight too large for float32) stops the run with one line that says so,
 * in one process and in the cluster alike. The cluster used to refuse every
 * worker's NaN gradient as bad input and hand the shard round for ever.
 */
import { strict as assert } from 'node:assert';
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
});
