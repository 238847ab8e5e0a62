/**
 * The gradient step returns SUMS, so shards of a batch add up to the whole
 * batch: the property that makes the cluster's update equal one process's.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { loadMnistSample } from '../../../../shared/data/mnist-sample';
import { buildPreset, PresetName } from '../../../../shared/models/presets';
import { GradientComputer, GradientSums } from '../../../../shared/training/gradient-step';
import { addSums, emptySums } from '../../../../shared/training/gradient-sums';
import { expectNoLeakedTensors, maxAbs, maxAbsDiff, useBackend } from '../../../helpers/backends';

const data = loadMnistSample();
const indices = Array.from({ length: 24 }, (_, i) => i * 13);

function computer(preset: PresetName, seed = 3): GradientComputer {
  const model = buildPreset(preset, { shape: data.shape, numClasses: 10, seed, dropout: 0 });
  return new GradientComputer(model, data.train, data.shape, { numClasses: 10 });
}

function assertSumsClose(a: GradientSums, b: GradientSums, tolerance: number): void {
  assert.equal(a.count, b.count);
  assert.equal(a.correct, b.correct);
  assert.ok(Math.abs(a.lossSum - b.lossSum) <= tolerance * Math.max(1, Math.abs(b.lossSum)));
  a.grads.forEach((g, i) => {
    const d = maxAbsDiff(g, b.grads[i]);
    assert.ok(d <= tolerance * Math.max(1, maxAbs(b.grads[i])), `gradient ${i}: max diff ${d}`);
  });
}

describe('the gradient step', () => {
  before(() => useBackend('wasm'));

  it('returns one gradient per trainable weight, with count, loss and correct sums', () => {
    const c = computer('mlp');
    const r = c.compute({ indices, seed: 1 });
    assert.equal(r.count, 24);
    assert.equal(r.grads.length, 6);
    assert.deepEqual(r.grads.map((g) => g.length), [784 * 300, 300, 300 * 100, 100, 100 * 10, 10]);
    assert.ok(r.lossSum > 24 * 1.5 && r.lossSum < 24 * 3.5, `untrained loss sum ${r.lossSum} should be near 24 ln 10`);
    assert.ok(r.correct >= 0 && r.correct <= 24);
  });

  for (const preset of ['mlp', 'keras-cnn'] as PresetName[]) {
    it(`${preset}: the sums over any split of a batch equal the sums over the whole batch`, () => {
      const c = computer(preset);
      const whole = c.compute({ indices, seed: 1 });
      for (const cuts of [[12], [5, 9], [1, 2, 20]]) {
        const total = emptySums(whole.grads.map((g) => g.length));
        let start = 0;
        for (const end of [...cuts, indices.length]) {
          addSums(total, c.compute({ indices: indices.slice(start, end), seed: 1 }));
          start = end;
        }
        assertSumsClose(total, whole, 1e-5);
      }
    });
  }

  describe('streamed (each gradient handed out when the backward pass finishes it)', () => {
    async function streamed(c: GradientComputer, seed = 1) {
      const order: number[] = [];
      const grads: Float32Array[] = [];
      const stats = await c.computeStreamed({ indices, seed }, (i, g) => {
        order.push(i);
        grads[i] = Float32Array.from(g);
      });
      return { order, grads, stats };
    }

    for (const preset of ['mlp', 'keras-cnn', 'cnn'] as PresetName[]) {
      it(`${preset}: the same gradients, bit for bit, and the same sums as the whole backward pass`, async () => {
        const c = computer(preset);
        const whole = c.compute({ indices, seed: 1 });
        const s = await streamed(c);
        assert.deepEqual(s.stats, { count: whole.count, lossSum: whole.lossSum, correct: whole.correct });
        assert.equal(s.order.length, whole.grads.length);
        whole.grads.forEach((g, i) => assert.equal(maxAbsDiff(s.grads[i], g), 0, `gradient ${i}`));
      });
    }

    it('finishes the last layers first, each variable once', async () => {
      const s = await streamed(computer('keras-cnn'));
      assert.deepEqual([...s.order].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
      // Dense layers (weights 4..7) are done before the convolutions' (0..3) backward pass starts.
      assert.ok(s.order.slice(0, 4).every((i) => i >= 4), `order ${s.order.join(',')}`);
    });

    it('waits for the callback between gradients, and leaks no tensors even when it throws', async () => {
      const c = computer('keras-cnn');
      let inCallback = false;
      await c.computeStreamed({ indices, seed: 1 }, async () => {
        assert.equal(inCallback, false);
        inCallback = true;
        await new Promise((resolve) => setImmediate(resolve));
        inCallback = false;
      });
      const before = tf.memory().numTensors;
      await assert.rejects(
        c.computeStreamed({ indices, seed: 1 }, () => {
          throw new Error('the session ended');
        }),
        /session ended/,
      );
      assert.equal(tf.memory().numTensors, before);
      await streamed(c);
      assert.equal(tf.memory().numTensors, before);
    });
  });

  it('leaks no tensors', () => {
    const c = computer('keras-cnn');
    c.compute({ indices, seed: 1 });
    expectNoLeakedTensors(() => c.compute({ indices, seed: 1 }));
  });

  for (const preset of ['keras-cnn', 'cnn', 'lenet5'] as PresetName[]) {
    it(`${preset}: conv nets train on wasm with the same gradients as on cpu`, async () => {
      const small = indices.slice(0, 8);
      const onWasm = computer(preset).compute({ indices: small, seed: 1 });
      await useBackend('cpu');
      try {
        const onCpu = computer(preset).compute({ indices: small, seed: 1 });
        assertSumsClose(onWasm, onCpu, 1e-4);
      } finally {
        await useBackend('wasm');
      }
    });
  }

  it('replays dropout and augmentation exactly for the same seed, and differs for another', () => {
    const model = buildPreset('cnn', { shape: data.shape, numClasses: 10, seed: 3, dropout: 0.5 });
    const c = new GradientComputer(model, data.train, data.shape, { numClasses: 10, augment: { shift: 2, rotate: 10 } });
    const small = indices.slice(0, 6);
    const a = c.compute({ indices: small, seed: 11 });
    const b = c.compute({ indices: small, seed: 11 });
    const other = c.compute({ indices: small, seed: 12 });
    assertSumsClose(a, b, 0);
    assert.notEqual(a.lossSum, other.lossSum);
    tf.disposeVariables();
  });
});
