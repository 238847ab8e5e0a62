import { strict as assert } from 'node:assert';
import { BroadcastMode, BroadcastTrial, BroadcastTuner } from '../../../coordinator/broadcast-policy';

function tuner(warmupSteps = 2) {
  const trials: BroadcastTrial[] = [];
  const t = new BroadcastTuner({ warmupSteps, trialSteps: 3, staggeredBelow: 0.95, onChoice: (trial) => trials.push(trial) });
  /** Runs `steps` steps of `workers` workers, each taking what `ms` says for its mode; returns the modes used. */
  const run = (steps: number, workers: number, ms: (mode: BroadcastMode, i: number) => number) =>
    Array.from({ length: steps }, (_, i) => {
      const mode = t.modeFor(workers);
      t.stepTook(mode, workers, ms(mode, i));
      return mode;
    });
  return { run, trials };
}

const T = 'together';
const S = 'staggered';

describe('--broadcast auto (BroadcastTuner)', () => {
  it('sends together through the warm-up, then alternates the two modes for the trial', () => {
    const { run, trials } = tuner();
    assert.deepEqual(
      run(8, 2, () => 100),
      [T, T, T, S, T, S, T, S],
    );
    assert.equal(trials.length, 1);
  });

  it('keeps staggered when its median step is faster by more than the margin, and from then on sends staggered', () => {
    const { run, trials } = tuner();
    const modes = run(30, 4, (mode) => (mode === S ? 80 : 100));
    assert.deepEqual(trials, [{ workers: 4, chosen: S, togetherMs: 100, staggeredMs: 80 }]);
    assert.ok(modes.slice(8).every((m) => m === S), modes.join(' '));
  });

  it('keeps together when staggered is faster by less than the margin', () => {
    const { run, trials } = tuner();
    const modes = run(30, 2, (mode) => (mode === S ? 97 : 100));
    assert.deepEqual(trials, [{ workers: 2, chosen: T, togetherMs: 100, staggeredMs: 97 }]);
    assert.ok(modes.slice(8).every((m) => m === T), modes.join(' '));
  });

  it('judges by medians: one slow step (a collection, a reassigned shard) does not decide', () => {
    const { run, trials } = tuner();
    run(8, 2, (mode, i) => (mode === S ? 80 : i === 2 ? 5000 : 100));
    assert.equal(trials[0].chosen, S);
    assert.equal(trials[0].togetherMs, 100);
  });

  it('leaves the warm-up steps out of the trial', () => {
    const { run, trials } = tuner(4);
    // The warm-up steps are slow together steps; counted, they would make staggered look faster.
    run(10, 2, (mode, i) => (i < 4 ? 1000 : 100));
    assert.deepEqual(trials, [{ workers: 2, chosen: T, togetherMs: 100, staggeredMs: 100 }]);
  });

  it('tries again, warm-up and all, when the number of workers changes', () => {
    const { run, trials } = tuner();
    run(8, 2, (mode) => (mode === S ? 80 : 100));
    assert.deepEqual(
      run(8, 3, (mode) => (mode === S ? 120 : 100)),
      [T, T, T, S, T, S, T, S],
    );
    assert.deepEqual(
      trials.map((t) => [t.workers, t.chosen]),
      [
        [2, S],
        [3, T],
      ],
    );
    assert.ok(run(5, 3, () => 100).every((m) => m === T));
  });

  it('runs no trial for a single worker, which has no one to stagger against', () => {
    const { run, trials } = tuner();
    assert.ok(run(20, 1, (mode) => (mode === S ? 50 : 100)).every((m) => m === T));
    assert.deepEqual(trials, []);
    // A second worker joins: a trial of its own.
    assert.deepEqual(run(8, 2, () => 100), [T, T, T, S, T, S, T, S]);
  });

  it('ignores a step reported for another number of workers than the one it is trying', () => {
    const trials: BroadcastTrial[] = [];
    const t = new BroadcastTuner({ warmupSteps: 0, trialSteps: 1, staggeredBelow: 0.95, onChoice: (trial) => trials.push(trial) });
    t.modeFor(2);
    // A step that began before a worker left ends after the tuner has started again for one worker fewer.
    t.stepTook(T, 3, 100);
    t.stepTook(S, 3, 100);
    assert.deepEqual(trials, []);
    t.stepTook(T, 2, 100);
    t.stepTook(S, 2, 50);
    assert.deepEqual(trials, [{ workers: 2, chosen: S, togetherMs: 100, staggeredMs: 50 }]);
  });
});
