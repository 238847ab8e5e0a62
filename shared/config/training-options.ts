/** The validated options of a training run, compiled once from the merged option values. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendName } from '../backends/backend-loader';
import { validateDatasetName } from '../data/dataset-registry';
import { ConfigError } from '../errors';
import type { LogFormat, LogLevel } from '../logging';
import { validateModelName } from '../models/model-factory';
import { isPresetName, PRESET_DEFAULTS } from '../models/presets';
import type { EarlyStoppingOptions } from '../training/early-stopping';
import type { LrScheduleName } from '../training/lr-schedule';
import type { OptimizerName } from '../training/optimizers';
import type { OptionValues } from './resolve-options';

export interface TrainingOptions {
  model: string;
  dataset: string;
  dataDir: string;
  imageSize: number;
  channels: 1 | 3;
  epochs: number;
  maxSteps: number;
  batchSize: number;
  /** 0: each shard in one pass, float32 sums. Otherwise split-independent float64 sums over micro-batches of this size. */
  microBatch: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  lrSchedule: LrScheduleName;
  lrDecayRate: number;
  lrDecaySteps: number;
  lrStaircase: boolean;
  warmupEpochs: number;
  referenceBatch: number;
  l1: number;
  l2: number;
  dropout: number;
  emaDecay: number;
  augment: { shift: number; rotate: number } | undefined;
  validationSplit: number;
  earlyStopping: EarlyStoppingOptions | undefined;
  initFrom: string | undefined;
  freezeLayers: number;
  checkpointEvery: number;
  keep: number;
  resume: string;
  resumeForce: boolean;
  seed: number;
  backend: BackendName;
  runId: string;
  runDir: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
}

function defaultRunId(model: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${path.basename(model, '.json')}-${stamp}`;
}

// Not only dots: runs/. and runs/.. are the runs directory and the one above it.
const RUN_ID = /^(?!\.+$)[A-Za-z0-9._-]{1,128}$/;

/**
 * A run started again on its own directory with --resume is the same run, so it keeps the id its
 * config.json records: workers that joined with --run-id, logs and metrics go on under one name.
 * An unreadable config.json only costs that continuity, so it falls back to a new id.
 */
function continuedRunId(v: OptionValues): string | undefined {
  if (v.runDir === undefined || v.resume === 'none') return undefined;
  try {
    const recorded = (JSON.parse(fs.readFileSync(path.join(v.runDir as string, 'config.json'), 'utf8')) as { runId?: unknown }).runId;
    return typeof recorded === 'string' && RUN_ID.test(recorded) ? recorded : undefined;
  } catch {
    return undefined;
  }
}

export function compileTrainingOptions(v: OptionValues, now = new Date()): TrainingOptions {
  const model = v.model as string;
  const dataset = v.dataset as string;
  validateModelName(model);
  validateDatasetName(dataset);
  const preset = isPresetName(model) ? PRESET_DEFAULTS[model] : { l2: 0, dropout: 0 };
  const runId = (v.runId as string | undefined) ?? continuedRunId(v) ?? defaultRunId(model, now);
  if (!RUN_ID.test(runId)) throw new ConfigError(`--run-id '${runId}': use letters, digits, '.', '_' and '-' only, not dots alone`);
  if (v.freezeLayers !== 0 && v.initFrom === undefined) throw new ConfigError('--freeze-layers needs --init-from');
  // Keras only warns, then never stops: a run told to stop early would quietly train to its last epoch.
  if (v.earlyStopping && String(v.monitor).startsWith('val_') && v.validationSplit === 0) {
    throw new ConfigError(`--early-stopping monitors ${String(v.monitor)}, but --validation-split 0 leaves no validation set; give --monitor loss, or a --validation-split above 0`);
  }
  return {
    model,
    dataset,
    dataDir: v.dataDir as string,
    imageSize: v.imageSize as number,
    channels: v.channels as 1 | 3,
    epochs: v.epochs as number,
    maxSteps: v.maxSteps as number,
    batchSize: v.batchSize as number,
    microBatch: v.microBatch as number,
    optimizer: v.optimizer as OptimizerName,
    lr: v.lr as number,
    momentum: v.momentum as number,
    lrSchedule: v.lrSchedule as LrScheduleName,
    lrDecayRate: v.lrDecayRate as number,
    lrDecaySteps: v.lrDecaySteps as number,
    lrStaircase: v.lrStaircase as boolean,
    warmupEpochs: v.warmupEpochs as number,
    referenceBatch: v.referenceBatch as number,
    l1: (v.l1 as number | undefined) ?? 0,
    l2: (v.l2 as number | undefined) ?? preset.l2,
    dropout: (v.dropout as number | undefined) ?? preset.dropout,
    emaDecay: v.emaDecay as number,
    augment: v.augment ? { shift: v.augmentShift as number, rotate: v.augmentRotate as number } : undefined,
    validationSplit: v.validationSplit as number,
    earlyStopping: v.earlyStopping
      ? {
          monitor: v.monitor as EarlyStoppingOptions['monitor'],
          mode: v.mode as EarlyStoppingOptions['mode'],
          minDelta: v.minDelta as number,
          patience: v.patience as number,
          baseline: v.baseline as number | undefined,
          restoreBestWeights: v.restoreBestWeights as boolean,
          startFromEpoch: v.startFromEpoch as number,
        }
      : undefined,
    initFrom: v.initFrom as string | undefined,
    freezeLayers: v.freezeLayers as number,
    checkpointEvery: v.checkpointEvery as number,
    keep: v.keep as number,
    resume: v.resume as string,
    resumeForce: v.resumeForce as boolean,
    seed: v.seed as number,
    backend: v.backend as BackendName,
    runId,
    runDir: (v.runDir as string | undefined) ?? path.join('runs', runId),
    logFormat: v.logFormat as LogFormat,
    logLevel: v.logLevel as LogLevel,
  };
}

type Metric = EarlyStoppingOptions['monitor'];

/** The metric that picks a run's best epoch (best/, summary.json's best_epoch): early stopping's, else val_loss, else, with no validation set, the training loss. */
export function bestEpochMetric(o: Pick<TrainingOptions, 'earlyStopping' | 'validationSplit'>): Metric {
  return o.earlyStopping?.monitor ?? (o.validationSplit > 0 ? 'val_loss' : 'loss');
}

/** Whether `value` of `metric` beats `best` (accuracies grow, losses shrink); a non-finite value never does. */
export function betterThan(metric: Metric, value: number, best: number | undefined): boolean {
  if (!Number.isFinite(value)) return false;
  return best === undefined || (metric.includes('acc') ? value > best : value < best);
}
