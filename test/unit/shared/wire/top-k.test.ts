import { strict as assert } from 'node:assert';
import { mulberry32 } from '../../../../shared/random';
import { chunksOf, TensorSetAssembler, TensorSetHeader, WireFormatError } from '../../../../shared/wire/tensor-codec';
import { keptCount, TopKCompressor } from '../../../../shared/wire/top-k';

const specs = [
  { name: 'kernel', shape: [300, 100] },
  { name: 'bias', shape: [7] },
];
const sizes = [30_000, 7];
const gradient = (rand: () => number) => sizes.map((n) => Float32Array.from({ length: n }, () => rand() - 0.5));

/** What the coordinator gets: the sparse set through chunks of `maxChunk` bytes, expanded to dense tensors. */
function overTheWire(compressor: TopKCompressor, grads: Float32Array[], maxChunk = 4096): Float32Array[] {
  const { kept, parts } = compressor.compress(grads);
  const header: TensorSetHeader = { tensors: specs, dtype: 'topk', totalBytes: parts.reduce((n, p) => n + p.byteLength, 0), kept };
  const assembler = new TensorSetAssembler(header, specs, 1 << 30);
  for (const c of chunksOf(parts, maxChunk)) assembler.add(c.offset, Buffer.from(c.data));
  return assembler.values() as Float32Array[];
}

describe('top-k gradients with error feedback (--compress topk)', () => {
  it('sends the k entries largest in magnitude of each tensor, at 8 bytes each, and zeros elsewhere', () => {
    const grads = gradient(mulberry32(5));
    const compressor = new TopKCompressor(sizes, 0.01);
    assert.deepEqual(compressor.compress(grads.map((g) => g.slice())).parts.map((p) => p.byteLength), [8 * 300, 8 * 1]);
    const received = overTheWire(new TopKCompressor(sizes, 0.01), grads);
    received.forEach((r, t) => {
      const k = keptCount(sizes[t], 0.01);
      const largest = [...grads[t].keys()].sort((a, b) => Math.abs(grads[t][b]) - Math.abs(grads[t][a])).slice(0, k);
      const sent = [...r.keys()].filter((i) => r[i] !== 0);
      assert.deepEqual(sent, [...largest].sort((a, b) => a - b), `tensor ${t}`);
      for (const i of sent) assert.equal(r[i], grads[t][i]);
    });
  });

  it('finds the exact k largest also when the sample it narrows the search with misleads it', () => {
    // The only large entries sit exactly where the sample looks, and there are fewer of them than k.
    const n = 20_000;
    const g = Float32Array.from({ length: n }, (_, i) => 0.1 + i * 1e-7);
    for (let j = 0; j < 90; j++) g[Math.floor((j * n) / 4096)] = 10 + j;
    const k = keptCount(n, 0.01);
    const { parts } = new TopKCompressor([n], 0.01).compress([g]);
    const sent = [...new Uint32Array(parts[0].buffer, 0, k)];
    const largest = [...g.keys()].sort((a, b) => g[b] - g[a]).slice(0, k);
    assert.deepEqual(sent, largest.sort((a, b) => a - b));
  });

  it('drops nothing, only delays it: once the gradients stop, what arrived adds up to what was computed', () => {
    const rand = mulberry32(8);
    const compressor = new TopKCompressor(sizes, 0.05);
    const computed = sizes.map((n) => new Float64Array(n));
    const arrived = sizes.map((n) => new Float64Array(n));
    const add = (into: Float64Array[], grads: Float32Array[]) => grads.forEach((g, t) => g.forEach((v, i) => (into[t][i] += v)));
    for (let step = 0; step < 5; step++) {
      const grads = gradient(rand);
      add(computed, grads);
      add(arrived, overTheWire(compressor, grads));
    }
    // Zero gradients from here on: each step sends the largest 5% of what is still held, so 20 steps empty it.
    for (let step = 0; step < 20; step++) add(arrived, overTheWire(compressor, sizes.map((n) => new Float32Array(n))));
    computed.forEach((c, t) => c.forEach((v, i) => assert.ok(Math.abs(arrived[t][i] - v) < 1e-5, `tensor ${t}[${i}]: ${arrived[t][i]} vs ${v}`)));
  });

  it('sends a NaN first, so that the coordinator sees the broken gradient and refuses it', () => {
    const grads = gradient(mulberry32(2));
    grads[0][1234] = NaN;
    const received = overTheWire(new TopKCompressor(sizes, 0.01), grads);
    assert.ok(Number.isNaN(received[0][1234]));
  });

  it('refuses a set whose counts or indices do not fit the tensors', () => {
    const header = (kept: number[]): TensorSetHeader => ({ tensors: specs, dtype: 'topk', totalBytes: 8 * kept.reduce((a, b) => a + b, 0), kept });
    assert.throws(() => new TensorSetAssembler(header([3]), specs, 1 << 30), /says how many entries 1 tensors kept, it has 2/);
    assert.throws(() => new TensorSetAssembler(header([3, 8]), specs, 1 << 30), /tensor 1 keeps 8 entries of 7/);
    const withIndices = (indices: number[]) => {
      const bytes = new Uint8Array(8 * (indices.length + 1));
      new Uint32Array(bytes.buffer, 0, indices.length).set(indices);
      new Uint32Array(bytes.buffer, 8 * indices.length, 1).set([0]); // the bias's one index
      const a = new TensorSetAssembler(header([indices.length, 1]), specs, 1 << 30);
      a.add(0, bytes);
      return () => a.values();
    };
    assert.doesNotThrow(withIndices([3, 9, 29_999]));
    assert.throws(withIndices([9, 3, 20]), (e: unknown) => e instanceof WireFormatError && /kept index 3 is out of order/.test(e.message));
    assert.throws(withIndices([9, 9, 20]), /kept index 9 is out of order/);
    assert.throws(withIndices([3, 9, 30_000]), /kept index 30000 is out of order or past its 30000 entries/);
  });
});
