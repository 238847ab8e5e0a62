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
import { streamVariableGrads } from './streamed-backward';
import type { FloatArray } from '../wire/tensor-codec';

/** What a shard's result says besides its gradients. */
export interface ShardStats {
  count: number;
  lossSum: number;
  correct: number;
}

export interface GradientSums extends ShardStats {
  /** One per trainable weight, in `model.trainableWeights` order; float64 when computed by micro-batches. */
  grads: FloatArray[];
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

  /**
   * Like `compute` without micro-batches, but each gradient goes to
   * `onFinished` as soon as the backward pass has finished it (last layers
   * first), so a worker can send it while the pass goes on.
   */
  async computeStreamed(input: StepInput, onFinished: (index: number, gradient: Float32Array, stats: ShardStats) => void | Promise<void>): Promise<ShardStats> {
    const { xs, ys, count } = this.prepareBatch(input);
    try {
      let correct = 0;
      const lossSum = await streamVariableGrads(
        () => this.lossSum(xs, ys, (c) => (correct = c)),
        this.trainable,
        (i, gradient, value) => onFinished(i, gradient, { count, lossSum: value, correct }),
      );
      return { count, lossSum, correct };
    } finally {
      xs.dispose();
      ys.dispose();
    }
  }

  private computeOnce(input: StepInput): GradientSums {
    const { xs, ys, count } = this.prepareBatch(input);
    let correct = 0;
    let lossSum = 0;
    let grads: Float32Array[] = [];
    // tf.tidy walks whatever its callback returns, typed arrays element by
    // element, so results leave through the closure instead.
    try {
      tf.tidy(() => {
        const out = tf.variableGrads(() => this.lossSum(xs, ys, (c) => (correct = c)), this.trainable);
        lossSum = out.value.dataSync()[0];
        grads = this.trainable.map((v) => out.grads[v.name].dataSync() as Float32Array);
      });
    } finally {
      xs.dispose();
      ys.dispose();
    }
    return { grads, count, lossSum, correct };
  }

  /** The shard's images and labels as tensors (the caller disposes them), with dropout seeded for it. */
  private prepareBatch(input: StepInput): { xs: tf.Tensor4D; ys: tf.Tensor1D; count: number } {
    const batch = assembleBatch(
      this.data,
      this.shape,
      input.indices,
      this.options.augment && { options: this.options.augment, seed: input.seed },
    );
    this.seedDropout(input.seed, input.indices);
    const { height, width, channels } = this.shape;
    const xs = tf.tensor4d(batch.pixels, [batch.count, height, width, channels]);
    const ys = tf.tensor1d(batch.labels, 'int32');
    return { xs, ys, count: batch.count };
  }

  /** The summed cross-entropy of the batch in training mode; the number it got right goes to `correct`. */
  private lossSum(xs: tf.Tensor4D, ys: tf.Tensor1D, correct: (n: number) => void): tf.Scalar {
    const probs = this.model.apply(xs, { training: true }) as tf.Tensor2D;
    correct(correctCount(probs, ys).dataSync()[0]);
    return crossEntropySum(probs, ys, this.options.numClasses);
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
