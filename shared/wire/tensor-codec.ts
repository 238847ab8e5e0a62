/**
 * Tensor sets on the wire: the values of every tensor, concatenated as
 * little-endian float32 (or float16/bfloat16 for compressed gradients), cut
 * into chunks of at most 1 MiB. Encoding float32 is a view of the existing
 * arrays, not a per-element loop; reassembly copies each chunk once into
 * its place.
 */
import * as os from 'node:os';
import { fromBfloat16, fromFloat16, toBfloat16, toFloat16 } from './half-precision';
import { expandTopK } from './top-k';
import { WireFormatError } from './wire-format-error';

export { WireFormatError };

/** topk: sparse (index, float32) pairs per tensor, see top-k.ts; the others are dense. */
export type WireDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'topk';
export type DenseDType = Exclude<WireDType, 'topk'>;
/** Tensor values in memory: float32, or float64 for exact partial sums. */
export type FloatArray = Float32Array | Float64Array;

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface TensorSetHeader {
  tensors: TensorSpec[];
  dtype: WireDType;
  totalBytes: number;
  /** topk only: entries sent of each tensor. */
  kept?: number[];
}

export const MAX_CHUNK_BYTES = 1 << 20;

if (os.endianness() !== 'LE') throw new Error('gradfleet needs a little-endian host: tensors travel as little-endian bytes');

/** Bytes per element of a dense dtype. */
export function bytesPerElement(dtype: DenseDType): number {
  return dtype === 'float64' ? 8 : dtype === 'float32' ? 4 : 2;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The bytes of each tensor, in order: views where the array already has the wire dtype, converted copies otherwise. */
export function encodeTensorSet(values: FloatArray[], specs: TensorSpec[], dtype: DenseDType): { header: TensorSetHeader; parts: Uint8Array[] } {
  const parts = values.map((v) => {
    const bytes = (a: FloatArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (dtype === 'float64') return bytes(v instanceof Float64Array ? v : Float64Array.from(v));
    const f32 = v instanceof Float32Array ? v : Float32Array.from(v);
    if (dtype === 'float32') return bytes(f32);
    const half = new Uint16Array(v.length);
    (dtype === 'float16' ? toFloat16 : toBfloat16)(f32, half);
    return new Uint8Array(half.buffer);
  });
  const totalBytes = parts.reduce((n, p) => n + p.byteLength, 0);
  return { header: { tensors: specs, dtype, totalBytes }, parts };
}

/** Cuts the concatenation of `parts` into chunks of at most `max` bytes, without concatenating first. */
export function* chunksOf(parts: Uint8Array[], max = MAX_CHUNK_BYTES): Generator<{ offset: number; data: Uint8Array }> {
  let offset = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const data = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    const chunk = { offset: offset - pendingBytes, data };
    pending = [];
    pendingBytes = 0;
    return chunk;
  };
  for (const part of parts) {
    let at = 0;
    while (at < part.byteLength) {
      const take = Math.min(max - pendingBytes, part.byteLength - at);
      pending.push(part.subarray(at, at + take));
      pendingBytes += take;
      offset += take;
      at += take;
      if (pendingBytes === max) yield flush();
    }
  }
  if (pendingBytes > 0) yield flush();
}

/** The size of a topk set: 8 bytes (index and value) per kept entry, no more entries than a tensor has. */
function sparseBytes(header: TensorSetHeader): number {
  const kept = header.kept ?? [];
  if (kept.length !== header.tensors.length) throw new WireFormatError(`top-k set says how many entries ${kept.length} tensors kept, it has ${header.tensors.length}`);
  return header.tensors.reduce((bytes, t, i) => {
    if (kept[i] > elementCount(t.shape)) throw new WireFormatError(`tensor ${i} keeps ${kept[i]} entries of ${elementCount(t.shape)}`);
    return bytes + 8 * kept[i];
  }, 0);
}

/**
 * Collects the chunks of one tensor set, in order, into a buffer sized from
 * the header, and checks the header against the tensors it must describe.
 */
export class TensorSetAssembler {
  private readonly buffer: Uint8Array;
  private received = 0;

  constructor(
    readonly header: TensorSetHeader,
    expected: TensorSpec[],
    maxBytes: number,
  ) {
    if (header.tensors.length !== expected.length) {
      throw new WireFormatError(`tensor set has ${header.tensors.length} tensors, expected ${expected.length}`);
    }
    header.tensors.forEach((t, i) => {
      const want = expected[i].shape;
      if (t.shape.length !== want.length || t.shape.some((d, j) => d !== want[j])) {
        throw new WireFormatError(`tensor ${i} (${expected[i].name}) has shape [${t.shape}], expected [${want}]`);
      }
    });
    const bytes = header.dtype === 'topk' ? sparseBytes(header) : header.tensors.reduce((n, t) => n + elementCount(t.shape) * bytesPerElement(header.dtype as DenseDType), 0);
    if (header.totalBytes !== bytes) throw new WireFormatError(`header says ${header.totalBytes} bytes, the shapes need ${bytes}`);
    if (bytes > maxBytes) throw new WireFormatError(`tensor set of ${bytes} bytes exceeds the limit of ${maxBytes}`);
    this.buffer = new Uint8Array(bytes);
  }

  /** Adds the next chunk; returns true once the set is complete. */
  add(offset: number, data: Uint8Array): boolean {
    if (offset !== this.received) throw new WireFormatError(`chunk at offset ${offset}, expected ${this.received}`);
    if (data.byteLength === 0 || data.byteLength > MAX_CHUNK_BYTES) throw new WireFormatError(`chunk of ${data.byteLength} bytes`);
    if (offset + data.byteLength > this.buffer.byteLength) throw new WireFormatError('chunk runs past the announced size');
    this.buffer.set(data, offset);
    this.received += data.byteLength;
    return this.received === this.buffer.byteLength;
  }

  get complete(): boolean {
    return this.received === this.buffer.byteLength;
  }

  /** The tensors as float32, or float64 when they travelled so (views into the buffer for both). */
  values(): FloatArray[] {
    if (!this.complete) throw new WireFormatError('tensor set is incomplete');
    const dtype = this.header.dtype;
    if (dtype === 'topk') return expandTopK(this.buffer, this.header.tensors.map((t) => elementCount(t.shape)), this.header.kept!);
    const out: FloatArray[] = [];
    let at = 0;
    for (const t of this.header.tensors) {
      const n = elementCount(t.shape);
      if (dtype === 'float64') {
        out.push(new Float64Array(this.buffer.buffer, this.buffer.byteOffset + at, n));
      } else if (dtype === 'float32') {
        out.push(new Float32Array(this.buffer.buffer, this.buffer.byteOffset + at, n));
      } else {
        const half = new Uint16Array(this.buffer.buffer, this.buffer.byteOffset + at, n);
        const f = new Float32Array(n);
        (dtype === 'float16' ? fromFloat16 : fromBfloat16)(half, f);
        out.push(f);
      }
      at += n * bytesPerElement(dtype);
    }
    return out;
  }

  /** The tensors as float32, whatever they travelled as (weights are always float32 in memory). */
  float32Values(): Float32Array[] {
    return this.values().map((v) => (v instanceof Float32Array ? v : Float32Array.from(v)));
  }
}
