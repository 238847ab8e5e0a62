/** Loss, accuracy and confusion matrix of a model on a set of samples. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageShape, LabelledImages } from '../data/dataset';
import { assembleBatch } from './batch';
import { crossEntropySum } from './loss';

export interface EvaluationResult {
  loss: number;
  accuracy: number;
  count: number;
  /** Sums behind loss and accuracy, for adding up the results of several shards. */
  lossSum: number;
  correct: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** The predicted class of each evaluated sample, in order. */
  predictions: Int32Array;
}

export interface EvaluationInput {
  model: LayersModel;
  set: LabelledImages;
  shape: ImageShape;
  numClasses: number;
  /** Which samples of `set`; all of them when absent. */
  indices?: ArrayLike<number>;
  batchSize?: number;
}

export function evaluate(input: EvaluationInput): EvaluationResult {
  const { model, set, shape, numClasses } = input;
  const indices = input.indices ?? Uint32Array.from({ length: set.count }, (_, i) => i);
  const batchSize = input.batchSize ?? 500;
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const predictions = new Int32Array(indices.length);
  let lossSum = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const chunk = Array.prototype.slice.call(indices, start, start + batchSize) as number[];
    const batch = assembleBatch(set, shape, chunk);
    tf.tidy(() => {
      const xs = tf.tensor4d(batch.pixels, [batch.count, shape.height, shape.width, shape.channels]);
      const ys = tf.tensor1d(batch.labels, 'int32');
      const probs = model.predict(xs) as tf.Tensor2D;
      lossSum += crossEntropySum(probs, ys, numClasses).dataSync()[0];
      const predicted = tf.argMax(probs, 1).dataSync();
      for (let i = 0; i < batch.count; i++) {
        predictions[start + i] = predicted[i];
        confusion[batch.labels[i]][predicted[i]]++;
      }
    });
  }
  let correct = 0;
  for (let c = 0; c < numClasses; c++) correct += confusion[c][c];
  const count = indices.length;
  return { loss: count > 0 ? lossSum / count : NaN, accuracy: count > 0 ? correct / count : NaN, count, lossSum, correct, confusion, predictions };
}
