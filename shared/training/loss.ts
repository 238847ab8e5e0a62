/**
 * Categorical cross-entropy on softmax outputs, summed over the samples (not
 * averaged): shards add up exactly, and the coordinator divides by the
 * global batch size. Probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does.
 */
import * as tf from '@tensorflow/tfjs-core';

const EPSILON = 1e-7;

export function crossEntropySum(probs: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, numClasses);
    const logp = tf.log(tf.clipByValue(probs, EPSILON, 1 - EPSILON));
    return tf.neg(tf.sum(tf.mul(oneHot, logp))) as tf.Scalar;
  });
}

export function correctCount(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'int32')) as tf.Scalar);
}
