/**
 * `gradfleet baseline`: the whole training run in one process, with no
 * cluster. It is the reference the cluster must match: the same loop,
 * gradient step and optimizer code, with gradients computed right here.
 */
import type { TrainingOptions } from '../shared/config/training-options';
import { GradientComputer } from '../shared/training/gradient-step';
import { prepareRun } from '../shared/training/run-setup';
import { runTrainingSession, SessionResult } from './training-session';

export async function runBaseline(o: TrainingOptions): Promise<SessionResult> {
  const run = await prepareRun(o);
  const computer = new GradientComputer(run.model, run.dataset.train, run.dataset.shape, {
    numClasses: run.dataset.numClasses,
    augment: o.augment,
    microBatch: o.microBatch,
  });
  return runTrainingSession({
    command: 'baseline',
    options: o,
    run,
    source: { computeBatch: async (work) => computer.compute(work), lastWorkerCount: 1 },
    workers: () => 1,
  });
}
