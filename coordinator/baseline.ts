/**
 * `gradfleet baseline`: the whole training run in one process, with no
 * cluster. It is the reference the cluster must match: the same loop,
 * gradient step and optimizer code, with gradients computed right here.
 */
import type { TrainingOptions } from '../shared/config/training-options';
import { DivergedError, InterruptedError } from '../shared/errors';
import { claimRunDirectory } from '../shared/io/run-directory';
import { getLogger } from '../shared/logging';
import { firstNonFinite } from '../shared/training/gradient-sums';
import { GradientComputer } from '../shared/training/gradient-step';
import { prepareRun } from '../shared/training/run-setup';
import { withInitFromLocated } from './saved-model-location';
import { runTrainingSession, SessionResult } from './training-session';

/** `stop` ends the run after the step in flight (Ctrl-C), with a checkpoint hint, as the coordinator does. */
export async function runBaseline(o: TrainingOptions, stop?: AbortSignal): Promise<SessionResult> {
  const claim = claimRunDirectory(o.runDir, 'baseline', getLogger({ component: 'baseline', runId: o.runId }));
  try {
    return await trainInThisProcess(o, stop);
  } finally {
    claim.release();
  }
}

async function trainInThisProcess(o: TrainingOptions, stop: AbortSignal | undefined): Promise<SessionResult> {
  const run = await prepareRun(withInitFromLocated(o, getLogger({ component: 'setup', runId: o.runId })));
  const computer = new GradientComputer(run.model, run.dataset.train, run.dataset.shape, {
    numClasses: run.dataset.numClasses,
    augment: o.augment,
    microBatch: o.microBatch,
  });
  return runTrainingSession({
    command: 'baseline',
    options: o,
    run,
    source: {
      computeBatch: async (work) => {
        // The loop is otherwise all microtasks: without a turn of the event loop a Ctrl-C handler would never run.
        await new Promise((resolve) => setImmediate(resolve));
        if (stop?.aborted) throw new InterruptedError(String(stop.reason));
        const sums = computer.compute(work);
        // As the coordinator refuses such a gradient from its workers: an update with it would turn every weight to NaN.
        const bad = firstNonFinite(sums);
        if (bad !== undefined) throw new DivergedError(`training diverged at step ${work.step}: the gradient held ${bad}; a lower --lr may help`);
        return sums;
      },
      lastWorkerCount: 1,
    },
    workers: () => 1,
  });
}
