/** A run that ends by an error (stopped, diverged, a full disk) still lets its callbacks let go of what they hold. */
import { strict as assert } from 'node:assert';
import { InterruptedError } from '../../../../shared/errors';
import type { TrainingCallback } from '../../../../shared/training/callbacks';
import type { ParameterUpdate } from '../../../../shared/training/parameter-update';
import { runTrainingLoop } from '../../../../shared/training/training-loop';

/** Stands in for the optimizer: the loop only asks it to begin and finish steps. */
const noUpdate = { beginStep: () => ({ finish: () => undefined }), learningRate: () => 0.1 } as unknown as ParameterUpdate;

function runStoppedAtStep(stopAt: number, callbacks: TrainingCallback[]) {
  let steps = 0;
  return runTrainingLoop({
    trainIndices: Uint32Array.from({ length: 64 }, (_, i) => i),
    validationIndices: new Uint32Array(0),
    batchSize: 8,
    epochs: 1,
    seed: 1,
    source: {
      computeBatch: async () => {
        if (++steps === stopAt) throw new InterruptedError('interrupted');
        return { lossSum: 1, correct: 4, count: 8, grads: [] };
      },
    },
    update: noUpdate,
    validate: async () => ({ loss: NaN, accuracy: NaN }),
    callbacks,
  });
}

describe('the training loop when a run ends by an error', () => {
  it('tells every callback, even after one of them throws, and passes the run’s own error on', async () => {
    const told: string[] = [];
    const first: TrainingCallback = {
      onStepEnd: (s) => void told.push(`step ${s.step}`),
      onTrainEnd: () => void told.push('end'),
      onTrainError: () => {
        told.push('first told');
        throw new Error('cleanup failed');
      },
    };
    const second: TrainingCallback = { onTrainError: (err) => void told.push(`second told: ${(err as Error).message}`) };
    await assert.rejects(runStoppedAtStep(3, [first, second]), (err: Error) => err instanceof InterruptedError);
    assert.deepEqual(told, ['step 1', 'step 2', 'first told', 'second told: interrupted']);
  });

  it('does not call onTrainError for a run that ends normally', async () => {
    const told: string[] = [];
    await runStoppedAtStep(Infinity, [{ onTrainEnd: () => void told.push('end'), onTrainError: () => void told.push('error') }]);
    assert.deepEqual(told, ['end']);
  });
});
