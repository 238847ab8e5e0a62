/** The optimizers a run can use, all tfjs's own (Adam with a one-pass update where the backend has one); state lives with the model that owns them. */
import * as tf from '@tensorflow/tfjs-core';
import { FusedAdam } from './fused-adam';

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
      return new FusedAdam(o.lr, 0.9, 0.999);
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

interface StepState {
  iterations_?: number;
  /** Adam's beta1^t and beta2^t. */
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/**
 * Applies gradients for some variables without counting an optimizer step:
 * tfjs optimizers advance their step state (the iteration count, Adam's
 * beta powers) on every applyGradients call, and a step applied in parts
 * must advance it once, with its last part.
 */
export function applyWithoutAdvancing(optimizer: tf.Optimizer, named: tf.NamedTensorMap): void {
  const state = optimizer as unknown as StepState;
  const iterations = state.iterations_;
  const powers = [state.accBeta1, state.accBeta2].filter((v): v is tf.Variable => v !== undefined);
  const saved = powers.map((v) => v.clone());
  optimizer.applyGradients(named);
  state.iterations_ = iterations;
  powers.forEach((v, i) => v.assign(saved[i]));
  tf.dispose(saved);
}
