/**
 * float32 <-> float16 / bfloat16 conversion for gradient compression, with
 * round-to-nearest-even. bfloat16 keeps float32's exponent range (no
 * overflow) with 8 bits of mantissa; float16 keeps 11 bits over a range of
 * about 6e-8 .. 65504.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bfloat16 bits nearest to float32 value `x` (round to nearest even; a NaN stays a NaN). */
export function bfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

export function toBfloat16(src: Float32Array, out: Uint16Array): void {
  for (let i = 0; i < src.length; i++) out[i] = bfloat16Bits(src[i]);
}

export function fromBfloat16(src: Uint16Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
}

/** The float16 bits nearest to float32 value `x` (round to nearest even; overflow to infinity). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: correct rounding
  return h;
}

export function toFloat16(src: Float32Array, out: Uint16Array): void {
  for (let i = 0; i < src.length; i++) out[i] = float16Bits(src[i]);
}

let float16Table: Float32Array | undefined;

/** All 65,536 float16 values, decoded once: decoding is then one lookup per value. */
function float16Values(): Float32Array {
  if (float16Table !== undefined) return float16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) table[h] = mant === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return (float16Table = table);
}

export function fromFloat16(src: Uint16Array, out: Float32Array): void {
  const table = float16Values();
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
}

/** The float32 value of bfloat16 bits `h`. */
function bfloat16Value(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

export type HalfDType = 'float16' | 'bfloat16';

/** One value's 16-bit encoding and decoding, per format. */
function halfCodec(dtype: HalfDType): { bitsOf: (x: number) => number; valueOf: (h: number) => number } {
  if (dtype === 'bfloat16') return { bitsOf: bfloat16Bits, valueOf: bfloat16Value };
  const table = float16Values();
  return { bitsOf: float16Bits, valueOf: (h) => table[h] };
}

/**
 * In one pass, what a compressed weights broadcast sends and keeps: the
 * change from `held` to `now` (subtracted in float32) in 16 bits, and `held`
 * plus what those bits decode to (added in float32), which is what a worker
 * holding `held` ends up with. The same values as subtracting, encoding,
 * decoding and adding array by array, in one pass instead of five.
 */
export function quantisedChange(now: Float32Array, held: Float32Array, dtype: HalfDType): { bits: Uint16Array; next: Float32Array } {
  const { bitsOf, valueOf } = halfCodec(dtype);
  const bits = new Uint16Array(now.length);
  const next = new Float32Array(now.length);
  for (let k = 0; k < now.length; k++) {
    const h = bitsOf(Math.fround(now[k] - held[k]));
    bits[k] = h;
    next[k] = held[k] + valueOf(h);
  }
  return { bits, next };
}
