/**
 * Image folders, one subfolder per class, under `train/` and `test/`, as in
 * the classic cats-vs-dogs tutorials. Class names come from the `train/`
 * subfolders, sorted, and `test/` must use the same names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataFormatError } from '../errors';
import { Dataset, ImageShape, LabelledImages, makeDataset, pixelsPerImage } from './dataset';
import { decodeImageFile, IMAGE_EXTENSIONS, resizeToChannels } from './image-codec';

export interface FolderDatasetOptions {
  imageSize: number;
  channels: 1 | 3;
}

const MAX_CLASSES = 256;

function listDirs(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new DataFormatError(`${dir}: folder not found`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function loadSplit(dir: string, classNames: string[], shape: ImageShape, channels: 1 | 3): LabelledImages {
  const files: { file: string; label: number }[] = [];
  classNames.forEach((name, label) => {
    const classDir = path.join(dir, name);
    if (!fs.existsSync(classDir)) return;
    for (const f of fs.readdirSync(classDir).sort()) {
      if (IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())) files.push({ file: path.join(classDir, f), label });
    }
  });
  if (files.length === 0) throw new DataFormatError(`${dir}: no ${IMAGE_EXTENSIONS.join('/')} images found`);
  const n = pixelsPerImage(shape);
  const images = new Uint8Array(files.length * n);
  const labels = new Uint8Array(files.length);
  files.forEach(({ file, label }, i) => {
    images.set(resizeToChannels(decodeImageFile(file), shape.width, shape.height, channels), i * n);
    labels[i] = label;
  });
  return { images, labels, count: files.length };
}

export function loadFolderDataset(dir: string, name: string, options: FolderDatasetOptions): Dataset {
  const classNames = listDirs(path.join(dir, 'train'));
  if (classNames.length < 2) throw new DataFormatError(`${path.join(dir, 'train')}: needs at least 2 class subfolders`);
  if (classNames.length > MAX_CLASSES) throw new DataFormatError(`${dir}: more than ${MAX_CLASSES} classes`);
  const unknown = listDirs(path.join(dir, 'test')).filter((c) => !classNames.includes(c));
  if (unknown.length > 0) throw new DataFormatError(`${path.join(dir, 'test')}: classes not in train/: ${unknown.join(', ')}`);
  const shape = { height: options.imageSize, width: options.imageSize, channels: options.channels };
  return makeDataset({
    name,
    shape,
    numClasses: classNames.length,
    classNames,
    train: loadSplit(path.join(dir, 'train'), classNames, shape, options.channels),
    test: loadSplit(path.join(dir, 'test'), classNames, shape, options.channels),
    source: dir,
  });
}
