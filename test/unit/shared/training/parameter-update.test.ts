/** The optimizer side of a step: mean gradient, Keras-style penalties, learning-rate schedule, EMA. */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { layersModelFiles } from '../../../../shared/io/layers-model-files';
import { buildPreset } from '../../../../shared/models/presets';
import { initFromSaved } from '../../../../shared/models/transfer';
import { ParameterUpdate, UpdateOptions } from '../../../../shared/training/parameter-update';
import { readWeights } from '../../../../shared/training/weights';
import { maxAbsDiff, useBackend } from '../../../helpers/backends';
import { tmpDir } from '../../../helpers/tmp';

const shape = { height: 4, width: 4, channels: 1 };
const sgd = (o: Partial<UpdateOptions> = {}): UpdateOptions => ({
  optimizer: { name: 'sgd', lr: 0.1, momentum: 0 },
  schedule: { name: 'constant', lr: 0.1, decayRate: 1, decaySteps: 1, staircase: false, warmupSteps: 0, globalBatch: 1, referenceBatch: 1 },
  l1: 0,
  l2: 0,
  emaDecay: 0,
  ...o,
});

function zeroSums(model: ReturnType<typeof buildPreset>, count = 4) {
  return { grads: model.trainableWeights.map((w) => new Float32Array(w.read().size)), count, lossSum: 0, correct: 0 };
}

describe('the parameter update', () => {
  before(() => useBackend('wasm'));

  it('divides the gradient sums by the sample count before the optimizer sees them', () => {
    const model = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
    const before = readWeights(model);
    const sums = zeroSums(model, 4);
    sums.grads[1].fill(8); // the first bias: mean gradient 2
    new ParameterUpdate(model, sgd()).apply(sums, 0);
    const after = readWeights(model);
    assert.ok(Math.abs(after[1][0] - (before[1][0] - 0.1 * 2)) < 1e-6);
    assert.equal(maxAbsDiff(after[0], before[0]), 0);
  });

  it('adds the L2 penalty’s gradient 2*l2*w to kernels only, as Keras regularisers do', () => {
    const model = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
    const before = readWeights(model);
    new ParameterUpdate(model, sgd({ l2: 0.5 })).apply(zeroSums(model), 0);
    const after = readWeights(model);
    after[0].forEach((w, i) => assert.ok(Math.abs(w - before[0][i] * (1 - 0.1 * 2 * 0.5)) < 1e-6));
    assert.deepEqual(after[1], before[1]);
  });

  it('adds l1 * sign(w) to kernels for L1', () => {
    const model = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
    const before = readWeights(model);
    new ParameterUpdate(model, sgd({ l1: 0.01 })).apply(zeroSums(model), 0);
    readWeights(model)[0].forEach((w, i) => assert.ok(Math.abs(w - (before[0][i] - 0.1 * 0.01 * Math.sign(before[0][i]))) < 1e-6));
  });

  it('uses the scheduled learning rate of each step', () => {
    const model = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
    const u = new ParameterUpdate(model, sgd({ schedule: { ...sgd().schedule, name: 'exponential', decayRate: 0.5, decaySteps: 1 } }));
    const before = readWeights(model)[1][0];
    const sums = zeroSums(model, 1);
    sums.grads[1].fill(1);
    u.apply(sums, 3); // lr = 0.1 * 0.5^3
    assert.ok(Math.abs(readWeights(model)[1][0] - (before - 0.0125)) < 1e-6);
  });

  for (const name of ['sgd', 'momentum', 'adam', 'rmsprop'] as const) {
    it(`${name}: a step applied in parts (some tensors early, the rest at the end) equals one apply, bit for bit`, () => {
      const options = sgd({ optimizer: { name, lr: 0.01, momentum: 0.9 }, l2: 0.001, emaDecay: 0.99 });
      const whole = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
      const parts = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
      const [uw, up] = [new ParameterUpdate(whole, options), new ParameterUpdate(parts, options)];
      for (let step = 0; step < 4; step++) {
        const sums = zeroSums(whole, 8);
        sums.grads.forEach((g, t) => g.forEach((_, j) => (g[j] = Math.sin(step * 7 + t * 3 + j))));
        uw.apply(sums, step);
        const update = up.beginStep(step, 8);
        // The last layers' tensors first, as a streamed backward pass delivers them.
        update.applyEarly([3, 2], [sums.grads[3], sums.grads[2]]);
        update.applyEarly([0], [sums.grads[0]]);
        update.finish(sums);
      }
      readWeights(whole).forEach((w, i) => assert.equal(maxAbsDiff(readWeights(parts)[i], w), 0, `weight ${i}`));
      assert.equal(up.optimizer.iterations, uw.optimizer.iterations);
      const ema = (u: ParameterUpdate, m: typeof whole) => u.ema!.withAveragedWeights(() => readWeights(m));
      ema(uw, whole).forEach((w, i) => assert.equal(maxAbsDiff(ema(up, parts)[i], w), 0, `EMA ${i}`));
    });
  }

  it('refuses a tensor applied twice, and sums that do not cover the planned samples', () => {
    const model = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
    const u = new ParameterUpdate(model, sgd());
    const sums = zeroSums(model, 4);
    const step = u.beginStep(0, 4);
    step.applyEarly([1], [sums.grads[1]]);
    assert.throws(() => step.applyEarly([1], [sums.grads[1]]), /applied twice/);
    assert.throws(() => u.beginStep(1, 4).finish(zeroSums(model, 3)), /planned over 4 samples/);
  });

  it('keeps an EMA of the weights and lends it for evaluation only', () => {
    const model = buildPreset('mlp-l2', { shape, numClasses: 3, seed: 1 });
    const u = new ParameterUpdate(model, sgd({ emaDecay: 0.9 }));
    const sums = zeroSums(model, 1);
    sums.grads[1].fill(1);
    for (let s = 0; s < 5; s++) u.apply(sums, s);
    const trained = readWeights(model);
    const averaged = u.ema!.withAveragedWeights(() => readWeights(model));
    assert.ok(averaged[1][0] > trained[1][0], 'the average lags behind weights that keep falling');
    assert.deepEqual(readWeights(model), trained);
    tf.disposeVariables();
  });
});

describe('transfer learning (--init-from, --freeze-layers)', () => {
  before(() => useBackend('wasm'));

  it('copies the layers whose shapes agree, and freezes the first N', async () => {
    const source = buildPreset('mlp', { shape, numClasses: 10, seed: 1 });
    const dir = path.join(tmpDir(), 'model');
    await source.save(layersModelFiles(dir));
    const target = buildPreset('mlp', { shape, numClasses: 5, seed: 2 }); // a new head
    const { copiedLayers } = await initFromSaved(target, dir, 2);
    assert.equal(copiedLayers, 3); // flatten, dense300, dense100; the head differs
    assert.deepEqual(target.layers[2].getWeights()[0].dataSync(), source.layers[2].getWeights()[0].dataSync()); // dense300 (layers[0] is the InputLayer)
    assert.equal(target.trainableWeights.length, 4); // dense100 and the head
  });

  it('refuses to freeze layers that were not copied', async () => {
    const source = buildPreset('mlp', { shape, numClasses: 10, seed: 1 });
    const dir = path.join(tmpDir(), 'model');
    await source.save(layersModelFiles(dir));
    const other = buildPreset('mlp', { shape, numClasses: 5, seed: 2 }); // all but the head match
    await assert.rejects(initFromSaved(other, dir, 4), /--freeze-layers 4: only the first 3 layers match/);
  });

  it('refuses a saved model none of whose weights fit, instead of training from scratch unsaid', async () => {
    const source = buildPreset('mlp', { shape, numClasses: 10, seed: 1 });
    const dir = path.join(tmpDir(), 'model');
    await source.save(layersModelFiles(dir));
    // Its Flatten matches mlp's, and nothing after it does.
    const other = buildPreset('mlp-l2', { shape, numClasses: 10, seed: 2 });
    await assert.rejects(initFromSaved(other, dir, 0), /--init-from .*: its first layers with weights have other shapes than this model's, so nothing would be copied/);
  });
});
