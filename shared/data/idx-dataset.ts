import * as path from 'node:path';
import { DataFormatError } from '../errors';
import { Dataset, LabelledImages, makeDataset } from './dataset';
import { readIdxFile } from './idx-format';

/** The four files of the MNIST layout, without the optional `.gz`. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

function readPair(dir: string, imagesBase: string, labelsBase: string): { set: LabelledImages; dims: number[] } {
  const images = readIdxFile(dir, imagesBase);
  const labels = readIdxFile(dir, labelsBase);
  const where = path.join(dir, imagesBase);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataFormatError(`${where}: images must have 3 or 4 dimensions, found [${images.dims.join('x')}]`);
  }
  if (labels.dims.length !== 1) {
    throw new DataFormatError(`${path.join(dir, labelsBase)}: labels must have 1 dimension, found [${labels.dims.join('x')}]`);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new DataFormatError(
      `${where}: ${images.dims[0]} images but ${path.join(dir, labelsBase)} has ${labels.dims[0]} labels`,
    );
  }
  return { set: { images: images.data, labels: labels.data, count: images.dims[0] }, dims: images.dims };
}

/** Any dataset in the MNIST four-file IDX layout (MNIST, Fashion-MNIST, KMNIST...). */
export function loadIdxDataset(dir: string, name: string): Dataset {
  const train = readPair(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  const test = readPair(dir, IDX_FILES.testImages, IDX_FILES.testLabels);
  const [, h, w, c = 1] = train.dims;
  const [, th, tw, tc = 1] = test.dims;
  if (h !== th || w !== tw || c !== tc) {
    throw new DataFormatError(`${dir}: train images are ${h}x${w}x${c} but test images are ${th}x${tw}x${tc}`);
  }
  let maxLabel = 0;
  for (const set of [train.set, test.set]) for (const l of set.labels) maxLabel = Math.max(maxLabel, l);
  const numClasses = maxLabel + 1;
  return makeDataset({
    name,
    shape: { height: h, width: w, channels: c },
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
    train: train.set,
    test: test.set,
    source: dir,
  });
}
