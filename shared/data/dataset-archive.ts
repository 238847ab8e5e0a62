/**
 * A dataset as one byte string, for the coordinator to stream to a worker
 * whose cache lacks it: a JSON header (length-prefixed) then the train and
 * test pixels and labels. The receiver recomputes the SHA-256 identity, so a
 * damaged transfer is never used.
 */
import { DataFormatError } from '../errors';
import { Dataset, makeDataset } from './dataset';

interface ArchiveHeader {
  name: string;
  source: string;
  shape: Dataset['shape'];
  numClasses: number;
  classNames: string[];
  trainCount: number;
  testCount: number;
}

export function packDataset(d: Dataset): Buffer {
  const header: ArchiveHeader = {
    name: d.name,
    source: d.source,
    shape: d.shape,
    numClasses: d.numClasses,
    classNames: d.classNames,
    trainCount: d.train.count,
    testCount: d.test.count,
  };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([length, json, d.train.images, d.train.labels, d.test.images, d.test.labels]);
}

export function unpackDataset(bytes: Uint8Array, expectedSha256: string): Dataset {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4) throw new DataFormatError('dataset archive is truncated');
  const jsonLength = buf.readUInt32LE(0);
  let header: ArchiveHeader;
  try {
    header = JSON.parse(buf.subarray(4, 4 + jsonLength).toString('utf8')) as ArchiveHeader;
  } catch {
    throw new DataFormatError('dataset archive header is not valid JSON');
  }
  const px = header.shape.height * header.shape.width * header.shape.channels;
  let at = 4 + jsonLength;
  const take = (n: number) => {
    if (at + n > buf.length) throw new DataFormatError('dataset archive is truncated');
    const out = new Uint8Array(buf.subarray(at, at + n));
    at += n;
    return out;
  };
  const train = { images: take(header.trainCount * px), labels: take(header.trainCount), count: header.trainCount };
  const test = { images: take(header.testCount * px), labels: take(header.testCount), count: header.testCount };
  const d = makeDataset({ name: header.name, source: `${header.source} (from the coordinator)`, shape: header.shape, numClasses: header.numClasses, classNames: header.classNames, train, test });
  if (d.sha256 !== expectedSha256) throw new DataFormatError(`dataset archive has SHA-256 ${d.sha256.slice(0, 12)}..., expected ${expectedSha256.slice(0, 12)}...`);
  return d;
}
