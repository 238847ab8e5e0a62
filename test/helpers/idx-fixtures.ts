import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { encodeIdx } from '../../shared/data/idx-format';
import { IDX_FILES } from '../../shared/data/idx-dataset';
import { mulberry32 } from '../../shared/random';

export interface IdxFixture {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/** Writes a small dataset in the MNIST four-file layout (optionally gzipped) and returns its contents. */
export function writeIdxDataset(dir: string, opts: { train: number; test: number; size?: number; gzip?: boolean; seed?: number }): IdxFixture {
  const size = opts.size ?? 8;
  const rand = mulberry32(opts.seed ?? 7);
  const bytes = (n: number, max: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * max));
  const fx: IdxFixture = {
    trainImages: bytes(opts.train * size * size, 256),
    trainLabels: bytes(opts.train, 10),
    testImages: bytes(opts.test * size * size, 256),
    testLabels: bytes(opts.test, 10),
  };
  const write = (base: string, dims: number[], data: Uint8Array) => {
    const raw = encodeIdx(dims, data);
    fs.writeFileSync(path.join(dir, opts.gzip ? `${base}.gz` : base), opts.gzip ? zlib.gzipSync(raw) : raw);
  };
  fs.mkdirSync(dir, { recursive: true });
  write(IDX_FILES.trainImages, [opts.train, size, size], fx.trainImages);
  write(IDX_FILES.trainLabels, [opts.train], fx.trainLabels);
  write(IDX_FILES.testImages, [opts.test, size, size], fx.testImages);
  write(IDX_FILES.testLabels, [opts.test], fx.testLabels);
  return fx;
}
