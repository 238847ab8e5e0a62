import { strict as assert } from 'node:assert';
import { learningRateAt, LrSchedule } from '../../../../shared/training/lr-schedule';

const base: LrSchedule = { name: 'constant', lr: 0.1, decayRate: 0.5, decaySteps: 10, staircase: false, warmupSteps: 4, globalBatch: 256, referenceBatch: 64 };
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

describe('learning-rate schedules', () => {
  it('constant stays put', () => close(learningRateAt(base, 1000), 0.1));

  it('exponential decay follows lr * rate^(step / decaySteps), optionally in whole periods', () => {
    const s = { ...base, name: 'exponential' as const };
    close(learningRateAt(s, 0), 0.1);
    close(learningRateAt(s, 5), 0.1 * Math.pow(0.5, 0.5));
    close(learningRateAt(s, 20), 0.025);
    close(learningRateAt({ ...s, staircase: true }, 19), 0.05);
  });

  it('warmup ramps linearly to lr * globalBatch / referenceBatch (Goyal et al. 2017)', () => {
    const s = { ...base, name: 'warmup' as const };
    close(learningRateAt(s, 0), 0.1);
    close(learningRateAt(s, 2), 0.25);
    close(learningRateAt(s, 4), 0.4);
    close(learningRateAt(s, 400), 0.4);
  });
});
