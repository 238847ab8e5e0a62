/**
 * Learning-rate schedules: constant; exponential decay as in
 * tf.compat.v1.train.exponential_decay; and warmup with the linear scaling
 * rule of Goyal et al. 2017 ("Accurate, Large Minibatch SGD"): the rate
 * grows linearly from `lr` to `lr * globalBatch / referenceBatch` over the
 * warmup steps, then stays there.
 */
export const LR_SCHEDULES = ['constant', 'exponential', 'warmup'] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

export interface LrSchedule {
  name: LrScheduleName;
  lr: number;
  decayRate: number;
  decaySteps: number;
  staircase: boolean;
  warmupSteps: number;
  globalBatch: number;
  referenceBatch: number;
}

export function learningRateAt(s: LrSchedule, step: number): number {
  switch (s.name) {
    case 'constant':
      return s.lr;
    case 'exponential': {
      const p = step / s.decaySteps;
      return s.lr * Math.pow(s.decayRate, s.staircase ? Math.floor(p) : p);
    }
    case 'warmup': {
      const target = (s.lr * s.globalBatch) / s.referenceBatch;
      if (step >= s.warmupSteps) return target;
      return s.lr + ((target - s.lr) * step) / s.warmupSteps;
    }
  }
}
