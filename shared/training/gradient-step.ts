/**
 * The gradient step, the same code for one-process training and for a
 * cluster worker: given the model's current weights and sample indices,
 * return the SUM of per-sample gradients (not the mean) with the sample
 * count, loss sum and correct count. Summing lets the coordinator divide by
 * the global batch size, so any split of a batch gives the same update.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageShape, LabelledImages } from '../data/dataset';
import { deriveSeed, SeedPurpose } from '../random';
import type { AugmentOptions } from './augmentation';
import { assembleBatch } from './batch';
import { addSums, emptySums } from './gradient-sums';
import { correctCount, crossEntropySum } from './loss';
import type { FloatArray } from '../wire/tensor-codec';

export interface GradientSums {
  /** One per trainable weight, in `model.trainableWeights` order; float64 when computed by micro-batches. */
  grads: FloatArray[];
  count: number;
  lossSum: number;
  correct: number;
}

/** What a shard asks of a worker: gradient sums, or loss and accuracy sums for validation. */
export type ShardTask = 'train' | 'validate';

export interface StepInput {
  indices: ArrayLike<number>;
  /** Seeds augmentation and dropout; the coordinator derives it from the run seed and epoch. */
  seed: number;
}

export interface GradientComputerOptions {
  numClasses: number;
  augment?: AugmentOptions;
  /**
   * When set, samples go through the model this many at a time and the sums
   * add up in float64. Micro-batches are cut from the start of the shard, and
   * shards start at multiples of the micro-batch, so a sample always lands in
   * the same micro-batch and float64 partial sums make the total independent
   * of how a batch was split across workers (`--deterministic`).
   */
  microBatch?: number;
}

export class GradientComputer {
  private readonly trainable: tf.Variable[];

  constructor(
    private readonly model: LayersModel,
    private readonly data: LabelledImages,
    private readonly shape: ImageShape,
    private readonly options: GradientComputerOptions,
  ) {
    this.trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  compute(input: StepInput): GradientSums {
    const m = this.options.microBatch;
    if (m === undefined || m <= 0) return this.computeOnce(input);
    const total = emptySums(this.trainable.map((v) => v.size), Float64Array);
    for (let start = 0; start < input.indices.length; start += m) {
      const indices = Array.prototype.slice.call(input.indices, start, start + m) as number[];
      addSums(total, this.computeOnce({ indices, seed: input.seed }));
    }
    return total;
  }

  private computeOnce(input: StepInput): GradientSums {
    const batch = assembleBatch(
      this.data,
      this.shape,
      input.indices,
      this.options.augment && { options: this.options.augment, seed: input.seed },
    );
    this.seedDropout(input.seed, input.indices);
    const { height, width, channels } = this.shape;
    let correct = 0;
    let lossSum = 0;
    let grads: Float32Array[] = [];
    // tf.tidy walks whatever its callback returns, typed arrays element by
    // element, so results leave through the closure instead.
    tf.tidy(() => {
      const xs = tf.tensor4d(batch.pixels, [batch.count, height, width, channels]);
      const ys = tf.tensor1d(batch.labels, 'int32');
      const out = tf.variableGrads(() => {
        const probs = this.model.apply(xs, { training: true }) as tf.Tensor2D;
        correct = correctCount(probs, ys).dataSync()[0];
        return crossEntropySum(probs, ys, this.options.numClasses);
      }, this.trainable);
      lossSum = out.value.dataSync()[0];
      grads = this.trainable.map((v) => out.grads[v.name].dataSync() as Float32Array);
    });
    return { grads, count: batch.count, lossSum, correct };
  }

  /** Dropout masks follow the step seed and the shard's first sample, so a step replays identically. */
  private seedDropout(seed: number, indices: ArrayLike<number>): void {
    let i = 0;
    for (const layer of this.model.layers) {
      if (layer.getClassName() === 'Dropout') {
        (layer as unknown as { seed: number }).seed = deriveSeed(seed, SeedPurpose.dropout, indices.length > 0 ? indices[0] : 0, i++);
      }
    }
  }
}
