/**
 * The optimizer side of a step, separate from the gradient side: turns the
 * gradient sums of a whole global batch into one update of the model. Its
 * state (optimizer slots, EMA) lives only here, on the coordinator.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { GradientSums } from './gradient-step';
import { learningRateAt, LrSchedule } from './lr-schedule';
import { applyWithoutAdvancing, createOptimizer, OptimizerOptions, setLearningRate } from './optimizers';
import type { FloatArray } from '../wire/tensor-codec';
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

/** One update, applied in parts: `applyEarly` for tensors whose sums are complete, then `finish` with the whole batch's sums. */
export interface StepUpdate {
  applyEarly(indices: number[], sums: FloatArray[]): void;
  /** Applies the tensors not applied early and completes the step (the optimizer's step count, the EMA). */
  finish(sums: GradientSums): void;
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
    this.beginStep(step, sums.count).finish(sums);
  }

  /**
   * Update number `step` over `count` samples, which may be applied tensor
   * by tensor: a cluster applies the tensors whose batch sums are complete
   * while the last shards' backward passes still run. The result is the
   * same as one `apply`, bit for bit (tested).
   */
  beginStep(step: number, count: number): StepUpdate {
    if (count <= 0) throw new RangeError('cannot apply an update over zero samples');
    setLearningRate(this.optimizer, this.learningRate(step));
    const applied = new Array<boolean>(this.variables.length).fill(false);
    const applyTensors = (indices: number[], sums: FloatArray[], last: boolean) => {
      for (const i of indices) {
        if (applied[i]) throw new RangeError(`gradient ${i} applied twice in step ${step}`);
        applied[i] = true;
      }
      // tfjs optimizers keep their slots by position in the map, so every variable is named, in
      // order; those without a gradient now (null) are skipped.
      const named: Record<string, tf.Tensor | null> = Object.fromEntries(this.variables.map((v) => [v.name, null]));
      tf.tidy(() => {
        indices.forEach((i, j) => (named[this.variables[i].name] = this.meanGradient(i, sums[j], count)));
        if (last) this.optimizer.applyGradients(named as tf.NamedTensorMap);
        else applyWithoutAdvancing(this.optimizer, named as tf.NamedTensorMap);
      });
    };
    return {
      applyEarly: (indices, sums) => applyTensors(indices, sums, false),
      finish: (sums) => {
        if (sums.count !== count) throw new RangeError(`step ${step} was planned over ${count} samples, its gradient sums cover ${sums.count}`);
        const rest = applied.flatMap((done, i) => (done ? [] : [i]));
        applyTensors(rest, rest.map((i) => sums.grads[i]), true);
        this.ema?.update();
      },
    };
  }

  /** The batch mean of gradient `i`, with the Keras-style penalty on kernels. */
  private meanGradient(i: number, sum: FloatArray, count: number): tf.Tensor {
    const v = this.variables[i];
    const { l1, l2 } = this.options;
    // tfjs has no float64 tensors: exact sums are divided here and rounded once.
    let g: tf.Tensor = sum instanceof Float64Array ? tf.tensor(Float32Array.from(sum, (x) => x / count), v.shape) : tf.div(tf.tensor(sum, v.shape), count);
    if (this.isKernel[i] && l2 > 0) g = tf.add(g, tf.mul(v, 2 * l2));
    if (this.isKernel[i] && l1 > 0) g = tf.add(g, tf.mul(tf.sign(v), l1));
    return g;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
