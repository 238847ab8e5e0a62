/** Early stopping behaves as keras.callbacks.EarlyStopping does. */
import { strict as assert } from 'node:assert';
import type { EpochLogs } from '../../../../shared/training/callbacks';
import { EarlyStopping, EarlyStoppingOptions } from '../../../../shared/training/early-stopping';

const defaults: EarlyStoppingOptions = {
  monitor: 'val_loss',
  mode: 'auto',
  minDelta: 0,
  patience: 2,
  restoreBestWeights: false,
  startFromEpoch: 0,
};

function logs(epoch: number, values: Partial<EpochLogs>): EpochLogs {
  return { epoch, loss: NaN, accuracy: NaN, val_loss: NaN, val_accuracy: NaN, seconds: 1, samplesPerSecond: 1, ...values };
}

/** Feeds the series epoch by epoch; returns the 1-based epoch at which training stopped, or 0. */
function stopEpoch(options: Partial<EarlyStoppingOptions>, series: number[], monitor: keyof EpochLogs = 'val_loss', es = new EarlyStopping({ ...defaults, ...options })): number {
  const loop = { stopTraining: false };
  for (let i = 0; i < series.length && !loop.stopTraining; i++) es.onEpochEnd(logs(i + 1, { [monitor]: series[i] }), loop);
  return es.getState().stoppedEpoch;
}

describe('early stopping (Keras semantics)', () => {
  it('stops after `patience` epochs without improvement of val_loss', () => {
    assert.equal(stopEpoch({}, [1.0, 0.8, 0.9, 0.85, 0.7]), 4);
  });

  it('never stops while the metric keeps improving', () => {
    assert.equal(stopEpoch({}, [1.0, 0.9, 0.8, 0.7, 0.6]), 0);
  });

  it('in auto mode maximises accuracy metrics', () => {
    assert.equal(stopEpoch({ monitor: 'val_accuracy' }, [0.5, 0.6, 0.55, 0.58], 'val_accuracy'), 4);
    assert.equal(stopEpoch({ monitor: 'val_accuracy' }, [0.5, 0.6, 0.7, 0.8], 'val_accuracy'), 0);
  });

  it('counts only improvements larger than min_delta', () => {
    assert.equal(stopEpoch({ minDelta: 0.05 }, [1.0, 0.97, 0.96, 0.5]), 3);
    assert.equal(stopEpoch({ minDelta: 0.01 }, [1.0, 0.97, 0.96, 0.5]), 0);
  });

  it('with a baseline, an epoch that does not beat it does not reset the patience count', () => {
    assert.equal(stopEpoch({ patience: 2 }, [1, 1, 1, 1]), 3);
    assert.equal(stopEpoch({ patience: 2, baseline: 0.5 }, [1, 1, 1, 1]), 2);
    assert.equal(stopEpoch({ patience: 2, baseline: 1.5 }, [1, 1, 1, 1]), 3);
  });

  it('ignores epochs before start_from_epoch', () => {
    assert.equal(stopEpoch({ startFromEpoch: 3, patience: 1 }, [1, 2, 3, 4, 5]), 5);
  });

  it('with patience 0 stops at the first epoch without improvement (not the first epoch)', () => {
    assert.equal(stopEpoch({ patience: 0 }, [1.0, 2.0]), 2);
  });

  it('restores the best epoch’s weights at the end', () => {
    let current: Float32Array[] = [new Float32Array([0])];
    const es = new EarlyStopping({ ...defaults, restoreBestWeights: true, patience: 1 }, {
      get: () => current.map((w) => w.slice()),
      set: (w) => (current = w),
    });
    const loop = { stopTraining: false };
    [0.9, 0.5, 0.7].forEach((v, i) => {
      current = [new Float32Array([i + 1])];
      es.onEpochEnd(logs(i + 1, { val_loss: v }), loop);
    });
    assert.equal(loop.stopTraining, true);
    es.onTrainEnd();
    assert.deepEqual([...current[0]], [2]);
    assert.equal(es.getState().bestEpoch, 2);
  });

  it('resumes from its saved state to stop at the same epoch as an uninterrupted run', () => {
    const series = [1.0, 0.8, 0.9, 0.85, 0.95, 0.7];
    const first = new EarlyStopping({ ...defaults, patience: 3 });
    const loop = { stopTraining: false };
    series.slice(0, 3).forEach((v, i) => first.onEpochEnd(logs(i + 1, { val_loss: v }), loop));
    const resumed = new EarlyStopping({ ...defaults, patience: 3 });
    resumed.restore(first.getState());
    series.slice(3).forEach((v, i) => !loop.stopTraining && resumed.onEpochEnd(logs(i + 4, { val_loss: v }), loop));
    assert.equal(resumed.getState().stoppedEpoch, stopEpoch({ patience: 3 }, series));
    assert.equal(resumed.getState().stoppedEpoch, 5);
  });
});
