/**
 * `gradfleet baseline`: the whole training run in one process, with no
 * cluster. It is the reference the cluster must match: the same loop,
 * gradient step and optimizer code, with gradients computed right here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { TrainingOptions } from '../shared/config/training-options';
import { isInteractive } from '../shared/config/env';
import { layersModelFiles } from '../shared/io/layers-model-files';
import { getLogger } from '../shared/logging';
import type { TrainingCallback } from '../shared/training/callbacks';
import { EarlyStopping } from '../shared/training/early-stopping';
import { evaluate, EvaluationResult } from '../shared/training/evaluation';
import { GradientComputer } from '../shared/training/gradient-step';
import { MetricsLogCallback } from '../shared/training/metrics-log-callback';
import { ProgressCallback } from '../shared/training/progress-callback';
import { prepareRun, PreparedRun } from '../shared/training/run-setup';
import { RunSummary, writeSummary } from '../shared/training/run-summary';
import { GradientSource, runTrainingLoop } from '../shared/training/training-loop';
import { readWeights, writeWeights } from '../shared/training/weights';

export interface BaselineResult {
  summary: RunSummary;
  summaryPath: string;
  model: LayersModel;
  test: EvaluationResult;
}

/** Evaluates with the EMA weights when the run keeps an EMA, else with the trained ones. */
export function evaluationWeightsScope(run: PreparedRun): <T>(fn: () => T) => T {
  const ema = run.update.ema;
  return (fn) => (ema === undefined ? fn() : ema.withAveragedWeights(fn));
}

export async function runBaseline(o: TrainingOptions): Promise<BaselineResult> {
  const wallStart = Date.now();
  const log = getLogger({ component: 'baseline', runId: o.runId });
  const run = await prepareRun(o);
  fs.mkdirSync(o.runDir, { recursive: true });
  fs.writeFileSync(path.join(o.runDir, 'config.json'), `${JSON.stringify({ command: 'baseline', ...o }, null, 2)}\n`);

  const computer = new GradientComputer(run.model, run.dataset.train, run.dataset.shape, {
    numClasses: run.dataset.numClasses,
    augment: o.augment,
  });
  const source: GradientSource = { computeBatch: async (work) => computer.compute(work), lastWorkerCount: 1 };
  const withEvalWeights = evaluationWeightsScope(run);
  const evalOn = (set: typeof run.dataset.train, indices?: Uint32Array) =>
    withEvalWeights(() =>
      evaluate({ model: run.model, set, shape: run.dataset.shape, numClasses: run.dataset.numClasses, indices }),
    );

  const earlyStopping = o.earlyStopping && new EarlyStopping(o.earlyStopping, {
    get: () => readWeights(run.model),
    set: (w) => writeWeights(run.model, w),
  });
  const callbacks: TrainingCallback[] = [
    new ProgressCallback(log, o.epochs, isInteractive()),
    new MetricsLogCallback(path.join(o.runDir, 'metrics.jsonl')),
    ...(earlyStopping ? [earlyStopping] : []),
  ];
  log.info(`training ${o.model} on ${run.dataset.name} for ${o.epochs} epochs, batch ${o.batchSize}, ${run.stepsPerEpoch} steps/epoch`);
  const outcome = await runTrainingLoop({
    trainIndices: run.split.train,
    validationIndices: run.split.validation,
    batchSize: o.batchSize,
    epochs: o.epochs,
    seed: o.seed,
    source,
    update: run.update,
    validate: async (indices) => evalOn(run.dataset.train, indices),
    callbacks,
  });

  const test = evalOn(run.dataset.test);
  const modelDir = path.join(o.runDir, 'model');
  await withEvalWeights(() => run.model.save(layersModelFiles(modelDir)));
  const history = outcome.history;
  const bestEpoch =
    earlyStopping?.getState().bestEpoch ||
    history.reduce((best, e) => (e.val_loss < history[best - 1].val_loss ? e.epoch : best), 1);
  const summary: RunSummary = {
    run_id: o.runId,
    command: 'baseline',
    model: o.model,
    dataset: run.dataset.name,
    test_accuracy: test.accuracy,
    test_loss: test.loss,
    epochs_run: history.length,
    best_epoch: bestEpoch,
    stopped_early: outcome.stoppedEarly,
    wall_seconds: (Date.now() - wallStart) / 1000,
    train_seconds: outcome.trainSeconds,
    samples_per_second: outcome.samplesTrained / outcome.stepSeconds,
    workers: 1,
    backend: run.backend.name,
    batch_size: o.batchSize,
    final_val_accuracy: history[history.length - 1]?.val_accuracy ?? NaN,
    model_dir: modelDir,
    history,
  };
  const summaryPath = writeSummary(o.runDir, summary);
  log.info(`test accuracy ${(test.accuracy * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}`);
  return { summary, summaryPath, model: run.model, test };
}
