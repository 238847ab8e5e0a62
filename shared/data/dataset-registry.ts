/** Turns a user's dataset name into a loaded Dataset. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { getLogger } from '../logging';
import { Dataset } from './dataset';
import { loadFolderDataset } from './folder-dataset';
import { IDX_FILES, loadIdxDataset } from './idx-dataset';
import { loadMnistSample } from './mnist-sample';

export interface DatasetRequest {
  /** `mnist`, `mnist-sample`, `idx:DIR` or `folder:DIR`. */
  name: string;
  /** Where `mnist` looks for its IDX files. */
  dataDir: string;
  imageSize: number;
  channels: 1 | 3;
}

export const DATASET_FORMS = ['mnist', 'mnist-sample', 'idx:DIR', 'folder:DIR'];

export function validateDatasetName(name: string): void {
  if (name === 'mnist' || name === 'mnist-sample') return;
  const m = /^(idx|folder):(.+)$/.exec(name);
  if (m === null) throw new ConfigError(`unknown dataset '${name}' (expected one of: ${DATASET_FORMS.join(', ')})`);
}

function hasIdxFiles(dir: string): boolean {
  return Object.values(IDX_FILES).every((f) => fs.existsSync(path.join(dir, f)) || fs.existsSync(path.join(dir, `${f}.gz`)));
}

export function loadDataset(request: DatasetRequest): Dataset {
  validateDatasetName(request.name);
  const log = getLogger({ component: 'dataset' });
  if (request.name === 'mnist-sample') return loadMnistSample();
  if (request.name === 'mnist') {
    if (hasIdxFiles(request.dataDir)) return loadIdxDataset(request.dataDir, 'mnist');
    log.warn(
      `MNIST files not found in ${request.dataDir} (run 'gradfleet dataset fetch mnist --data-dir ${request.dataDir}'); using the embedded 10,000-digit sample instead`,
    );
    return loadMnistSample();
  }
  const [kind, ...rest] = request.name.split(':');
  const dir = rest.join(':');
  if (kind === 'idx') return loadIdxDataset(dir, request.name);
  return loadFolderDataset(dir, request.name, { imageSize: request.imageSize, channels: request.channels });
}
