/**
 * In-memory image classification datasets. Pixels stay unsigned bytes (as in
 * the files, 4x smaller than floats); batches are normalised when assembled.
 */
import { createHash } from 'node:crypto';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface LabelledImages {
  /** count * height * width * channels bytes, row-major HWC per image. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  /** The name a user gives: `mnist`, `mnist-sample`, `idx:DIR`, `folder:DIR`. */
  name: string;
  shape: ImageShape;
  numClasses: number;
  classNames: string[];
  train: LabelledImages;
  test: LabelledImages;
  /** SHA-256 over shape, labels and pixels: workers check their copy against it. */
  sha256: string;
  /** Where the data came from, for the logs ("embedded sample", a directory, ...). */
  source: string;
}

export function pixelsPerImage(shape: ImageShape): number {
  return shape.height * shape.width * shape.channels;
}

export function datasetHash(shape: ImageShape, numClasses: number, parts: LabelledImages[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ shape, numClasses, counts: parts.map((p) => p.count) }));
  for (const p of parts) {
    hash.update(p.labels);
    hash.update(p.images);
  }
  return hash.digest('hex');
}

export function makeDataset(fields: Omit<Dataset, 'sha256'>): Dataset {
  return { ...fields, sha256: datasetHash(fields.shape, fields.numClasses, [fields.train, fields.test]) };
}

/** The images and labels at `indices`, copied into a new set. */
export function subset(set: LabelledImages, indices: ArrayLike<number>, shape: ImageShape): LabelledImages {
  const n = pixelsPerImage(shape);
  const images = new Uint8Array(indices.length * n);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i];
    images.set(set.images.subarray(src * n, (src + 1) * n), i * n);
    labels[i] = set.labels[src];
  }
  return { images, labels, count: indices.length };
}
