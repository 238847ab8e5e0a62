/**
 * A training run from first step to summary.json, wherever the gradients
 * come from: `baseline` computes them in this process, the coordinator
 * gets them from workers. Both write the same run directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { checkpointPauseMs, isInteractive } from '../shared/config/env';
import { bestEpochMetric, betterThan, TrainingOptions } from '../shared/config/training-options';
import type { LabelledImages } from '../shared/data/dataset';
import { layersModelFiles } from '../shared/io/layers-model-files';
import { DivergedError, InterruptedError, isSystemError, RunFailedError } from '../shared/errors';
import { getLogger } from '../shared/logging';
import type { EpochLogs, TrainingCallback } from '../shared/training/callbacks';
import { EarlyStopping } from '../shared/training/early-stopping';
import { TensorBoardCallback } from '../shared/training/tensorboard-callback';
import { GRID, ReportInput, writeRunReport } from '../shared/report/run-report';
import { evaluate, EvaluationResult } from '../shared/training/evaluation';
import { MetricsLogCallback } from '../shared/training/metrics-log-callback';
import { ProgressCallback } from '../shared/training/progress-callback';
import type { PreparedRun } from '../shared/training/run-setup';
import { RunSummary, writeSummary } from '../shared/training/run-summary';
import { GradientSource, runTrainingLoop, Validator } from '../shared/training/training-loop';
import { readWeights, writeWeights } from '../shared/training/weights';
import { CheckpointCallback } from './checkpoint-callback';
import { CheckpointStore } from './checkpoint-store';
import { CHECKPOINT_FILES } from './checkpoint-files';
import { howToContinue, resolveResume, restoreCheckpoint } from './run-checkpoint';
import { GRADFLEET_VERSION } from '../shared/version';

export interface SessionResult {
  summary: RunSummary;
  summaryPath: string;
  model: LayersModel;
  test: EvaluationResult;
}

/** The commands that run a coordinator: `local` runs one with its own workers. */
export type ClusterCommand = 'coordinator' | 'local';

export interface TrainingSessionInput {
  command: 'baseline' | ClusterCommand;
  options: TrainingOptions;
  run: PreparedRun;
  source: GradientSource;
  /** Where validation runs; in this process when absent. */
  validate?: Validator;
  /** Workers in the run at the end (1 for baseline). */
  workers: () => number;
  callbacks?: TrainingCallback[];
  extraSummary?: () => Record<string, unknown>;
  /** Seconds each checkpoint write took (metrics). */
  onCheckpointWritten?: (seconds: number) => void;
}

/** Evaluates with the EMA weights when the run keeps an EMA, else with the trained ones. */
export function evaluationWeightsScope(run: PreparedRun): <T>(fn: () => T) => T {
  const ema = run.update.ema;
  return (fn) => (ema === undefined ? fn() : ema.withAveragedWeights(fn));
}

export async function runTrainingSession(input: TrainingSessionInput): Promise<SessionResult> {
  const { options: o, run } = input;
  const wallStart = Date.now();
  const log = getLogger({ component: input.command, runId: o.runId });
  // The options as resolved, for the record; a token (the coordinator's) is a secret and stays out.
  const recorded = JSON.stringify({ command: input.command, gradfleet_version: GRADFLEET_VERSION, ...o }, (key, value: unknown) => (key === 'token' && value !== undefined ? '(redacted)' : value), 2);
  fs.writeFileSync(path.join(o.runDir, 'config.json'), `${recorded}\n`);

  const withEvalWeights = evaluationWeightsScope(run);
  const evalOn = (set: LabelledImages, indices?: Uint32Array) =>
    withEvalWeights(() => evaluate({ model: run.model, set, shape: run.dataset.shape, numClasses: run.dataset.numClasses, indices }));
  const earlyStopping =
    o.earlyStopping &&
    new EarlyStopping(o.earlyStopping, { get: () => readWeights(run.model), set: (w) => writeWeights(run.model, w) });
  const store = new CheckpointStore(o.runDir, checkpointPauseMs(), CHECKPOINT_FILES);
  const subjects = { run, options: o, earlyStopping: earlyStopping || undefined };
  const resumeFrom = resolveResume(o.resume, store, log);
  const resumed = resumeFrom === undefined ? undefined : await restoreCheckpoint(resumeFrom, subjects, o.resumeForce);
  if (resumed !== undefined) log.info(`resuming from ${resumeFrom}: epoch ${resumed.position.epoch + 1}, step ${resumed.position.step}`);
  const checkpoints = new CheckpointCallback(store, subjects, o.checkpointEvery, o.keep, log, input.onCheckpointWritten);
  const callbacks: TrainingCallback[] = [
    ...(input.callbacks ?? []),
    new ProgressCallback(log, o.epochs, isInteractive()),
    new MetricsLogCallback(path.join(o.runDir, 'metrics.jsonl')),
    new TensorBoardCallback(path.join(o.runDir, 'tensorboard')),
    ...(earlyStopping ? [earlyStopping] : []),
    // Last: a checkpoint records the early-stopping decision of its epoch.
    checkpoints,
  ];
  log.info(`training ${o.model} on ${run.dataset.name} for ${o.epochs} epochs, global batch ${o.batchSize}, ${run.stepsPerEpoch} steps/epoch`);
  const outcome = await runTrainingLoop({
    trainIndices: run.split.train,
    validationIndices: run.split.validation,
    batchSize: o.batchSize,
    epochs: o.epochs,
    maxSteps: o.maxSteps,
    seed: o.seed,
    source: input.source,
    update: run.update,
    validate: input.validate ?? (async (indices) => evalOn(run.dataset.train, indices)),
    callbacks,
    start: resumed?.position,
    history: resumed?.history,
  }).catch((err: unknown) => {
    if (!(isSystemError(err) || err instanceof InterruptedError || err instanceof RunFailedError)) throw err;
    // The command's last line, where a user who pressed Ctrl-C or freed a full disk looks for how to go on.
    const hint = howToContinue(store, o.runDir, err instanceof DivergedError ? 'a lower --lr' : undefined);
    if (isSystemError(err)) throw new RunFailedError(`${err.message}; ${hint}`);
    err.message = `${err.message}; ${hint}`;
    throw err;
  });

  const test = evalOn(run.dataset.test);
  const modelDir = path.join(o.runDir, 'model');
  await withEvalWeights(() => run.model.save(layersModelFiles(modelDir)));
  const history = outcome.history;
  const metric = bestEpochMetric(o);
  const bestEpoch = history.reduce((best, e) => (betterThan(metric, e[metric], history[best - 1][metric]) ? e.epoch : best), 1);
  const summary: RunSummary = {
    run_id: o.runId,
    command: input.command,
    model: o.model,
    dataset: run.dataset.name,
    test_accuracy: test.accuracy,
    test_loss: test.loss,
    epochs_run: history.length,
    steps_run: outcome.position.step,
    best_epoch: earlyStopping?.getState().bestEpoch || (history.length > 0 ? bestEpoch : 0),
    stopped_early: outcome.stoppedEarly,
    wall_seconds: (Date.now() - wallStart) / 1000,
    train_seconds: outcome.trainSeconds,
    samples_per_second: outcome.all.samples / outcome.all.stepSeconds,
    // Past the warm-up steps: what a long run sustains (the benchmarks compare these).
    steady_samples_per_second: outcome.steady.samples / outcome.steady.stepSeconds,
    step_ms: (outcome.steady.stepSeconds * 1000) / Math.max(1, outcome.steady.steps),
    apply_ms: (outcome.steady.applySeconds * 1000) / Math.max(1, outcome.steady.steps),
    workers: input.workers(),
    backend: run.backend.name,
    batch_size: o.batchSize,
    final_val_accuracy: history[history.length - 1]?.val_accuracy ?? NaN,
    model_dir: modelDir,
    resumed_from: resumeFrom ?? null,
    checkpoint_seconds: checkpoints.seconds,
    ...input.extraSummary?.(),
    history,
  };
  writeRunReport(path.join(o.runDir, 'report'), reportInput(run, test, history));
  const summaryPath = writeSummary(o.runDir, summary);
  log.info(`test accuracy ${(test.accuracy * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}; summary: ${summaryPath}`);
  return { summary, summaryPath, model: run.model, test };
}

/** The first test images (grey: colour images are averaged) with what the model said of them. */
function reportInput(run: PreparedRun, test: EvaluationResult, history: EpochLogs[]): ReportInput {
  const { height, width, channels } = run.dataset.shape;
  const n = Math.min(GRID.columns * GRID.rows, run.dataset.test.count);
  const samples = Array.from({ length: n }, (_, i) => {
    const pixels = new Uint8Array(height * width);
    const image = run.dataset.test.images.subarray(i * pixels.length * channels, (i + 1) * pixels.length * channels);
    for (let p = 0; p < pixels.length; p++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += image[p * channels + c];
      pixels[p] = Math.round(sum / channels);
    }
    return { pixels, label: run.dataset.test.labels[i], predicted: test.predictions[i] };
  });
  return { history, confusion: test.confusion, samples, imageSize: { height, width } };
}
