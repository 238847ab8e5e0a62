/** The optimizers a run can use, all tfjs's own; state lives with the model that owns them. */
import * as tf from '@tensorflow/tfjs-core';

export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerOptions {
  name: OptimizerName;
  lr: number;
  momentum: number;
}

export function createOptimizer(o: OptimizerOptions): tf.Optimizer {
  switch (o.name) {
    case 'sgd':
      return tf.train.sgd(o.lr);
    case 'momentum':
      return tf.train.momentum(o.lr, o.momentum);
    case 'adam':
      return tf.train.adam(o.lr);
    case 'rmsprop':
      return tf.train.rmsprop(o.lr, 0.9);
  }
}

/**
 * Sets the rate for the next update. SGD and momentum cache it as a tensor
 * (setLearningRate); Adam and RMSProp read their `learningRate` field on each
 * update.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const sgd = optimizer as unknown as { setLearningRate?: (lr: number) => void };
  if (typeof sgd.setLearningRate === 'function') {
    sgd.setLearningRate(lr);
  } else {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  }
}
