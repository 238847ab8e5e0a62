/**
 * gradfleet's Adam is tfjs's Adam: on wasm each variable's update runs as
 * one kernel, and the weights, the moment slots and the step state come out
 * bit for bit as tfjs's op-by-op update leaves them; where a backend has no
 * such kernel (cpu) it is tfjs's update itself.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE_KERNEL } from '../../../../shared/backends/adam-update-kernel';
import { FusedAdam } from '../../../../shared/training/fused-adam';
import { useBackend } from '../../../helpers/backends';

/** Sizes with and without a tail past the last group of four. */
const SHAPES = [[7], [3, 5], [64, 33], [2, 2, 4, 16]];

/** Runs `steps` updates with seeded gradients and a learning rate that changes every step; returns every value the optimizer owns or touched. */
async function train(optimizer: tf.Optimizer, steps: number): Promise<Float32Array[]> {
  const variables = SHAPES.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 100 + i)));
  for (let step = 0; step < steps; step++) {
    (optimizer as unknown as { learningRate: number }).learningRate = 0.01 / (1 + step);
    const grads = variables.map((v, i) => tf.randomNormal(v.shape, 0, step === 2 ? 1e-9 : 1, 'float32', 1 + 10 * step + i)); // seed 0 would mean unseeded
    // One variable without a gradient in one step: its slots must stay as they are.
    optimizer.applyGradients(Object.fromEntries(variables.map((v, i) => [v.name, step === 1 && i === 0 ? null : grads[i]])) as tf.NamedTensorMap);
    tf.dispose(grads);
  }
  const slots = await optimizer.getWeights();
  const values = [...variables.map((v) => v.dataSync() as Float32Array), ...slots.map((s) => s.tensor.dataSync() as Float32Array)];
  tf.dispose(variables);
  return values.map((v) => Float32Array.from(v));
}

describe("gradfleet's Adam", () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`on ${backend}: weights, slots and step count bit for bit as tfjs's AdamOptimizer after 6 updates`, async () => {
      await useBackend(backend);
      const ours = await train(new FusedAdam(0.01, 0.9, 0.999), 6);
      const theirs = await train(tf.train.adam(0.01), 6);
      assert.equal(ours.length, theirs.length);
      ours.forEach((values, i) => assert.deepEqual(values, theirs[i], `value set ${i}`));
    });
  }

  it('runs one kernel per variable on wasm, none on cpu', async () => {
    const kernels = async () => {
      const optimizer: tf.Optimizer = new FusedAdam(0.01, 0.9, 0.999);
      const v = tf.variable(tf.ones([10]));
      const profile = await tf.profile(() => optimizer.applyGradients({ [v.name]: tf.ones([10]) } as tf.NamedTensorMap));
      tf.dispose(v);
      return profile.kernelNames.filter((k) => k === ADAM_UPDATE_KERNEL).length;
    };
    await useBackend('wasm');
    assert.equal(await kernels(), 1);
    await useBackend('cpu');
    assert.equal(await kernels(), 0);
  });
});
