/**
 * Everything a training run needs before its first step, in one place for
 * `baseline` and the coordinator: backend, dataset and split, model, and the
 * optimizer side.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BackendChoice, initBackend } from '../backends/backend-loader';
import type { TrainingOptions } from '../config/training-options';
import type { Dataset } from '../data/dataset';
import { loadDataset } from '../data/dataset-registry';
import { splitValidation, TrainValidationSplit } from '../data/validation-split';
import { getLogger } from '../logging';
import { buildModel } from '../models/model-factory';
import { initFromSaved } from '../models/transfer';
import { stepsPerEpoch } from './batch-schedule';
import { LrSchedule } from './lr-schedule';
import { ParameterUpdate } from './parameter-update';

export interface PreparedRun {
  backend: BackendChoice;
  dataset: Dataset;
  split: TrainValidationSplit;
  model: LayersModel;
  update: ParameterUpdate;
  stepsPerEpoch: number;
}

export function lrScheduleFor(o: TrainingOptions, perEpoch: number): LrSchedule {
  return {
    name: o.lrSchedule,
    lr: o.lr,
    decayRate: o.lrDecayRate,
    decaySteps: o.lrDecaySteps > 0 ? o.lrDecaySteps : perEpoch,
    staircase: o.lrStaircase,
    warmupSteps: Math.round(o.warmupEpochs * perEpoch),
    globalBatch: o.batchSize,
    referenceBatch: o.referenceBatch,
  };
}

export async function prepareDatasetAndModel(o: TrainingOptions): Promise<Omit<PreparedRun, 'update' | 'backend' | 'stepsPerEpoch'>> {
  const log = getLogger({ component: 'setup', runId: o.runId });
  const dataset = loadDataset({ name: o.dataset, dataDir: o.dataDir, imageSize: o.imageSize, channels: o.channels });
  log.info(
    `dataset ${dataset.name}: ${dataset.train.count} train / ${dataset.test.count} test, ${dataset.shape.height}x${dataset.shape.width}x${dataset.shape.channels}, ${dataset.numClasses} classes (${dataset.source})`,
  );
  const split = splitValidation(dataset.train.count, o.validationSplit, o.seed);
  const model = await buildModel({ model: o.model, shape: dataset.shape, numClasses: dataset.numClasses, seed: o.seed, dropout: o.dropout });
  if (o.initFrom !== undefined) {
    const { copiedLayers } = await initFromSaved(model, o.initFrom, o.freezeLayers);
    log.info(`initialised ${copiedLayers} layers from ${o.initFrom}; ${o.freezeLayers} frozen`);
  }
  return { dataset, split, model };
}

export async function prepareRun(o: TrainingOptions): Promise<PreparedRun> {
  const backend = await initBackend(o.backend);
  const { dataset, split, model } = await prepareDatasetAndModel(o);
  const perEpoch = stepsPerEpoch(split.train.length, o.batchSize);
  const update = new ParameterUpdate(model, {
    optimizer: { name: o.optimizer, lr: o.lr, momentum: o.momentum },
    schedule: lrScheduleFor(o, perEpoch),
    l1: o.l1,
    l2: o.l2,
    emaDecay: o.emaDecay,
  });
  return { backend, dataset, split, model, update, stepsPerEpoch: perEpoch };
}
