/** The backward pass walked by hand: the same gradients as tfjs's, each handed out once, when no node left reads its variable. */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { streamVariableGrads } from '../../../../shared/training/streamed-backward';
import { useBackend } from '../../../helpers/backends';

describe('the streamed backward pass', () => {
  before(() => useBackend('wasm'));

  it('counts a variable read twice by one operation, or by several, once, and finishes it after its last reader', async () => {
    const a = tf.variable(tf.tensor1d([1, -2, 3]));
    const b = tf.variable(tf.tensor1d([0.5, 0.25, 2]));
    // a is read by a first mul, then twice by a second one (walked first, backwards); b by a third.
    const f = () => tf.sum(tf.add(tf.mul(a, 3), tf.mul(tf.mul(a, a), b))) as tf.Scalar;
    const want = tf.variableGrads(f, [a, b]);
    const finished: [number, number[]][] = [];
    const value = await streamVariableGrads(f, [a, b], (i, g) => {
      finished.push([i, Array.from(g)]);
    });
    assert.equal(value, want.value.dataSync()[0]);
    assert.deepEqual(finished.map(([i]) => i).sort(), [0, 1]);
    assert.deepEqual(finished.find(([i]) => i === 0)![1], Array.from(want.grads[a.name].dataSync()));
    assert.deepEqual(finished.find(([i]) => i === 1)![1], Array.from(want.grads[b.name].dataSync()));
    tf.dispose([want.value, ...Object.values(want.grads), a, b]);
  });

  it('hands out a zero gradient for a variable the result does not depend on', async () => {
    const used = tf.variable(tf.scalar(2));
    const unused = tf.variable(tf.tensor1d([1, 2]));
    const finished: [number, number[]][] = [];
    await streamVariableGrads(() => tf.square(used) as tf.Scalar, [used, unused], (i, g) => {
      finished.push([i, Array.from(g)]);
    });
    assert.deepEqual(finished, [[1, [0, 0]], [0, [4]]]);
    tf.dispose([used, unused]);
  });
});
