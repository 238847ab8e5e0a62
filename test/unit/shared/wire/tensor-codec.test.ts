import { strict as assert } from 'node:assert';
import { fromBfloat16, fromFloat16, quantisedChange, toBfloat16, toFloat16 } from '../../../../shared/wire/half-precision';
import { chunksOf, encodeTensorSet, TensorSetAssembler, DenseDType } from '../../../../shared/wire/tensor-codec';
import { mulberry32 } from '../../../../shared/random';

const rand = mulberry32(3);
const specs = [
  { name: 'kernel', shape: [300, 1000] },
  { name: 'bias', shape: [7] },
];
const values = specs.map((s) => Float32Array.from({ length: s.shape.reduce((a, b) => a * b) }, () => (rand() - 0.5) * 0.02));

function roundTrip(dtype: DenseDType, maxChunk?: number): { out: Float32Array[]; chunks: number; bytes: number } {
  const { header, parts } = encodeTensorSet(values, specs, dtype);
  const assembler = new TensorSetAssembler(header, specs, 1 << 30);
  let chunks = 0;
  for (const c of chunksOf(parts, maxChunk)) {
    chunks++;
    assembler.add(c.offset, Buffer.from(c.data));
  }
  return { out: assembler.float32Values(), chunks, bytes: header.totalBytes };
}

describe('tensor sets on the wire', () => {
  it('float32 arrives bit for bit, in chunks of at most 1 MiB', () => {
    const { out, chunks, bytes } = roundTrip('float32');
    assert.equal(bytes, (300_000 + 7) * 4);
    assert.equal(chunks, Math.ceil(bytes / 2 ** 20));
    out.forEach((o, i) => assert.deepEqual(o, values[i]));
  });

  it('float64 partial sums arrive exactly, as float64, at twice the bytes', () => {
    const wide = values.map((v) => Float64Array.from(v, (x) => x + 1e-12));
    const { header, parts } = encodeTensorSet(wide, specs, 'float64');
    assert.equal(header.totalBytes, (300_000 + 7) * 8);
    const assembler = new TensorSetAssembler(header, specs, 1 << 30);
    for (const c of chunksOf(parts)) assembler.add(c.offset, Buffer.from(c.data));
    assembler.values().forEach((o, i) => assert.deepEqual(o, wide[i]));
  });

  for (const [dtype, relative] of [
    ['float16', 2 ** -11],
    ['bfloat16', 2 ** -8],
  ] as [DenseDType, number][]) {
    it(`${dtype} halves the bytes and keeps each value within its rounding error (${relative.toExponential(1)} relative)`, () => {
      const { out, bytes } = roundTrip(dtype, 4096);
      assert.equal(bytes, (300_000 + 7) * 2);
      out.forEach((o, i) =>
        o.forEach((v, j) => {
          const x = values[i][j];
          assert.ok(Math.abs(v - x) <= relative * Math.abs(x) + 6e-8, `${x} -> ${v}`);
        }),
      );
    });
  }

  /** The next float32 above (+1) or below (-1) a positive float32. */
  function float32Step(x: number, direction: 1 | -1): number {
    const f = Float32Array.of(x);
    new Uint32Array(f.buffer)[0] += direction;
    return f[0];
  }

  for (const [dtype, to, from, largest, overflowMidpoint] of [
    ['float16', toFloat16, fromFloat16, 0x7bff, 65520],
    ['bfloat16', toBfloat16, fromBfloat16, 0x7f7f, new Float32Array(Uint32Array.of(0x7f7f8000).buffer)[0]],
  ] as const) {
    it(`${dtype} rounds to the nearest value, ties to even, at every boundary between two of its values`, () => {
      const all = Uint16Array.from({ length: largest + 2 }, (_, h) => h);
      const values = new Float32Array(all.length);
      from(all, values);
      // Below, at and above each midpoint, with both signs: 6 inputs per pair of neighbours.
      const inputs: number[] = [];
      const expected: number[] = [];
      for (let h = 0; h <= largest; h++) {
        const mid = h === largest ? overflowMidpoint : (values[h] + values[h + 1]) / 2;
        assert.equal(Math.fround(mid), mid);
        const even = h % 2 === 0 ? h : h + 1;
        for (const sign of [1, -1]) {
          inputs.push(sign * float32Step(mid, -1), sign * mid, sign * float32Step(mid, 1));
          expected.push(...[h, even, h + 1].map((e) => (sign < 0 ? e | 0x8000 : e)));
        }
      }
      const got = new Uint16Array(inputs.length);
      to(Float32Array.from(inputs), got);
      assert.deepEqual([...got], expected);
    });
  }

  it('float16 and bfloat16 keep signs, zeros, infinities and NaN', () => {
    const special = Float32Array.from([0, -0, 1, -2.5, Infinity, -Infinity, NaN, 65504, 1e6, 1e-9]);
    const h = new Uint16Array(special.length);
    const back = new Float32Array(special.length);
    toFloat16(special, h);
    fromFloat16(h, back);
    assert.deepEqual([...back].map(String), ['0', '0', '1', '-2.5', 'Infinity', '-Infinity', 'NaN', '65504', 'Infinity', '0']);
    toBfloat16(special, h);
    fromBfloat16(h, back);
    assert.deepEqual([...back.subarray(0, 8)].map(String), ['0', '0', '1', '-2.5', 'Infinity', '-Infinity', 'NaN', '65536']);
  });

  for (const [dtype, to, from] of [['float16', toFloat16, fromFloat16], ['bfloat16', toBfloat16, fromBfloat16]] as const) {
    it(`${dtype}: a weights change worked out in one pass equals subtracting, encoding, decoding and adding one array at a time`, () => {
      const rand = mulberry32(3);
      const held = Float32Array.from({ length: 4096 }, (_, i) => (i < 8 ? [0, -0, 1, 65504, 1e-9, -3, 7e-5, 2][i] : (rand() - 0.5) * 4));
      const now = Float32Array.from(held, (x, i) => (i < 8 ? [NaN, Infinity, 1e6, -65504, 1e-9 + 6e-8, -3, 7e-5 + 1e-7, 2][i] : x + (rand() - 0.5) * 1e-3));
      const { bits, next } = quantisedChange(now, held, dtype);
      const change = Float32Array.from(now, (x, i) => x - held[i]);
      const expectedBits = new Uint16Array(change.length);
      to(change, expectedBits);
      const decoded = new Float32Array(change.length);
      from(expectedBits, decoded);
      assert.deepEqual(bits, expectedBits);
      assert.deepEqual(next, Float32Array.from(held, (x, i) => x + decoded[i]));
    });
  }

  const bad: [string, () => unknown, RegExp][] = [
    ['a wrong tensor count', () => new TensorSetAssembler({ tensors: specs.slice(0, 1), dtype: 'float32', totalBytes: 1_200_000 }, specs, 1e9), /1 tensors, expected 2/],
    ['a wrong shape', () => new TensorSetAssembler({ tensors: [specs[0], { name: 'b', shape: [8] }], dtype: 'float32', totalBytes: 1_200_032 }, specs, 1e9), /shape \[8\], expected \[7\]/],
    ['a size that disagrees with the shapes', () => new TensorSetAssembler({ tensors: specs, dtype: 'float32', totalBytes: 5 }, specs, 1e9), /header says 5 bytes, the shapes need 1200028/],
    ['a set over the size limit', () => new TensorSetAssembler({ tensors: specs, dtype: 'float32', totalBytes: 1_200_028 }, specs, 1000), /exceeds the limit of 1000/],
  ];
  for (const [what, fn, message] of bad) it(`refuses ${what}`, () => assert.throws(fn, message));

  it('refuses chunks out of order or past the end', () => {
    const a = new TensorSetAssembler({ tensors: [specs[1]], dtype: 'float32', totalBytes: 28 }, [specs[1]], 1e9);
    assert.throws(() => a.add(4, Buffer.alloc(4)), /offset 4, expected 0/);
    assert.throws(() => a.add(0, Buffer.alloc(32)), /runs past the announced size/);
    assert.throws(() => a.values(), /incomplete/);
  });
});
