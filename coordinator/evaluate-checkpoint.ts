/** `gradfleet evaluate`: loss, accuracy and confusion matrix of a saved model on a dataset's test set. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { BackendName, initBackend } from '../shared/backends/backend-loader';
import { loadDataset } from '../shared/data/dataset-registry';
import { ModelError } from '../shared/errors';
import { layersModelFiles } from '../shared/io/layers-model-files';
import { getLogger } from '../shared/logging';
import { checkModelFitsDataset } from '../shared/models/model-factory';
import { evaluate, EvaluationResult } from '../shared/training/evaluation';
import { savedModelDir } from './saved-model-location';

export interface EvaluateRequest {
  checkpoint: string;
  /** When absent: the dataset of the run that wrote the checkpoint, else mnist-sample. */
  dataset?: string;
  dataDir: string;
  imageSize: number;
  channels: 1 | 3;
  backend: BackendName;
}

/** The dataset named in the run's config.json, looked for beside and above the checkpoint. */
export function datasetOfRun(checkpoint: string): { dataset?: string; dataDir?: string } {
  for (let dir = path.resolve(checkpoint), i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'config.json');
    if (fs.existsSync(file)) {
      try {
        const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { dataset?: string; dataDir?: string };
        return { dataset: config.dataset, dataDir: config.dataDir };
      } catch {
        return {};
      }
    }
  }
  return {};
}

/** The model `given` names (see locateSavedModel), saying which one when it is not `given` itself. */
export async function loadSavedModel(given: string): Promise<tfl.LayersModel> {
  const dir = savedModelDir(given, getLogger({ component: 'model' }));
  try {
    return await tfl.loadLayersModel(layersModelFiles(dir));
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError(`${dir}: cannot load model (${(err as Error).message.split('\n')[0]})`);
  }
}

export async function evaluateCheckpoint(req: EvaluateRequest): Promise<EvaluationResult & { dataset: string }> {
  await initBackend(req.backend);
  const fromRun = datasetOfRun(req.checkpoint);
  const name = req.dataset ?? fromRun.dataset ?? 'mnist-sample';
  const dataset = loadDataset({ name, dataDir: fromRun.dataDir ?? req.dataDir, imageSize: req.imageSize, channels: req.channels });
  const model = await loadSavedModel(req.checkpoint);
  checkModelFitsDataset(model, dataset.shape, dataset.numClasses, req.checkpoint);
  const result = evaluate({ model, set: dataset.test, shape: dataset.shape, numClasses: dataset.numClasses });
  model.dispose();
  return { ...result, dataset: dataset.name };
}
