/**
 * The IDX file format of MNIST (http://yann.lecun.com/exdb/mnist/): two zero
 * bytes, a type code, the number of dimensions, one big-endian uint32 per
 * dimension, then the values in row-major order. Files may be gzipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DataFormatError } from '../errors';

export interface IdxArray {
  dims: number[];
  /** Unsigned bytes: the only element type MNIST-style datasets use. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};
/** 2^31 elements: more than any image dataset that fits in memory. */
const MAX_ELEMENTS = 2 ** 31;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses IDX bytes (gzipped or plain). `name` only labels errors. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  let raw = bytes;
  if (isGzip(bytes)) {
    try {
      raw = zlib.gunzipSync(bytes);
    } catch (err) {
      throw new DataFormatError(`${name}: gzip data is corrupt or truncated (${(err as Error).message})`);
    }
  }
  if (raw.length < 4) throw new DataFormatError(`${name}: too short for an IDX header (${raw.length} bytes)`);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new DataFormatError(`${name}: not an IDX file (magic number starts 0x${hex(raw[0])}${hex(raw[1])}, expected 0x0000)`);
  }
  const type = raw[2];
  const rank = raw[3];
  if (!(type in TYPE_NAMES)) throw new DataFormatError(`${name}: unknown IDX element type 0x${hex(type)}`);
  if (type !== UBYTE) {
    throw new DataFormatError(`${name}: IDX element type is ${TYPE_NAMES[type]}, only unsigned byte is supported`);
  }
  if (rank < 1 || rank > 4) throw new DataFormatError(`${name}: IDX rank ${rank} is outside 1..4`);
  const headerLength = 4 + 4 * rank;
  if (raw.length < headerLength) throw new DataFormatError(`${name}: truncated IDX header`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) throw new DataFormatError(`${name}: dimension ${i} is zero`);
    dims.push(d);
    count *= d;
  }
  if (count > MAX_ELEMENTS) throw new DataFormatError(`${name}: ${count} elements is more than supported`);
  const available = raw.length - headerLength;
  if (available < count) {
    throw new DataFormatError(`${name}: truncated: header promises ${count} values [${dims.join('x')}], file holds ${available}`);
  }
  if (available > count) {
    throw new DataFormatError(`${name}: ${available - count} unexpected bytes after the ${count} values [${dims.join('x')}]`);
  }
  return { dims, data: raw.subarray(headerLength, headerLength + count) };
}

/** Encodes an unsigned-byte IDX array (used by tests and `dataset` tooling). */
export function encodeIdx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = UBYTE;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Reads `base` or `base.gz` from `dir`, whichever exists. */
export function readIdxFile(dir: string, base: string): IdxArray {
  for (const candidate of [base, `${base}.gz`]) {
    const file = path.join(dir, candidate);
    if (fs.existsSync(file)) return parseIdx(fs.readFileSync(file), file);
  }
  throw new DataFormatError(`${path.join(dir, base)}: file not found (nor ${base}.gz)`);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
