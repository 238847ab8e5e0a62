/**
 * The optimizer side of a step, separate from the gradient side: turns the
 * gradient sums of a whole global batch into one update of the model. Its
 * state (optimizer slots, EMA) lives only here, on the coordinator.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { GradientSums } from './gradient-step';
import { learningRateAt, LrSchedule } from './lr-schedule';
import { createOptimizer, OptimizerOptions, setLearningRate } from './optimizers';
import { WeightEma } from './weight-ema';

export interface UpdateOptions {
  optimizer: OptimizerOptions;
  schedule: LrSchedule;
  /** Keras-style penalties on kernels (not biases): l1 * sum|w| + l2 * sum w^2. */
  l1: number;
  l2: number;
  /** 0 disables the weight EMA. */
  emaDecay: number;
}

export class ParameterUpdate {
  readonly optimizer: tf.Optimizer;
  readonly ema: WeightEma | undefined;
  private readonly variables: tf.Variable[];
  private readonly isKernel: boolean[];

  constructor(
    model: LayersModel,
    private readonly options: UpdateOptions,
  ) {
    this.optimizer = createOptimizer(options.optimizer);
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.isKernel = model.trainableWeights.map((w) => /kernel$/.test(w.originalName));
    this.ema = options.emaDecay > 0 ? new WeightEma(this.variables, options.emaDecay) : undefined;
  }

  /** The learning rate used for update number `step` (0-based). */
  learningRate(step: number): number {
    return learningRateAt(this.options.schedule, step);
  }

  /** Applies the mean gradient of `sums` (plus regularisation) as update number `step`. */
  apply(sums: GradientSums, step: number): void {
    if (sums.count <= 0) throw new RangeError('cannot apply an update over zero samples');
    setLearningRate(this.optimizer, this.learningRate(step));
    const { l1, l2 } = this.options;
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      this.variables.forEach((v, i) => {
        const sum = sums.grads[i];
        // tfjs has no float64 tensors: exact sums are divided here and rounded once.
        let g: tf.Tensor =
          sum instanceof Float64Array ? tf.tensor(Float32Array.from(sum, (x) => x / sums.count), v.shape) : tf.div(tf.tensor(sum, v.shape), sums.count);
        if (this.isKernel[i] && l2 > 0) g = tf.add(g, tf.mul(v, 2 * l2));
        if (this.isKernel[i] && l1 > 0) g = tf.add(g, tf.mul(tf.sign(v), l1));
        named[v.name] = g;
      });
      this.optimizer.applyGradients(named);
    });
    this.ema?.update();
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
