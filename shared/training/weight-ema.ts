/**
 * Exponential moving average of the weights for evaluation, as
 * tf.train.ExponentialMovingAverage with num_updates: the decay starts low
 * (min(decay, (1 + n) / (10 + n))) so early averages are not dominated by
 * the random initialisation.
 */
import * as tf from '@tensorflow/tfjs-core';

export class WeightEma {
  readonly shadow: tf.Variable[];
  private updates = 0;

  constructor(
    private readonly weights: tf.Variable[],
    private readonly decay: number,
  ) {
    this.shadow = weights.map((w) => tf.variable(w.clone(), false));
  }

  update(): void {
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    this.updates++;
    tf.tidy(() => {
      this.weights.forEach((w, i) => this.shadow[i].assign(tf.add(tf.mul(this.shadow[i], d), tf.mul(w, 1 - d))));
    });
  }

  get count(): number {
    return this.updates;
  }

  restore(count: number, values: tf.Tensor[]): void {
    this.updates = count;
    values.forEach((v, i) => this.shadow[i].assign(v));
  }

  /** Runs `fn` with the averaged weights in place, then puts the trained ones back. */
  withAveragedWeights<T>(fn: () => T): T {
    const saved = this.weights.map((w) => w.clone());
    this.weights.forEach((w, i) => w.assign(this.shadow[i]));
    try {
      return fn();
    } finally {
      this.weights.forEach((w, i) => w.assign(saved[i]));
      tf.dispose(saved);
    }
  }

  dispose(): void {
    tf.dispose(this.shadow);
  }
}
