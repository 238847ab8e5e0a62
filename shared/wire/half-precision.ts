/**
 * float32 <-> float16 / bfloat16 conversion for gradient compression, with
 * round-to-nearest-even. bfloat16 keeps float32's exponent range (no
 * overflow) with 8 bits of mantissa; float16 keeps 11 bits over a range of
 * about 6e-8 .. 65504.
 */
/**
 * The bfloat16 bits nearest to the float32 whose bits are `u` (round to
 * nearest even; a NaN stays a NaN). Integer operations on the bits, so that
 * loops over arrays read them through a Uint32Array view instead of
 * converting value by value.
 */
function bfloat16OfBits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
}

/** The float16 bits nearest to the float32 whose bits are `u` (round to nearest even; overflow to infinity; NaN to a quiet NaN). */
function float16OfBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  // From 65520 (halfway between float16's largest, 65504, and 2^16) up: infinity; above float32's infinity: NaN.
  if (a >= 0x477ff000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
  // Normal float16: rebias the exponent, then round the 13 dropped bits to nearest even (a carry may reach the exponent: correct).
  if (a >= 0x38800000) return sign | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
  // Below 2^-25 (half the smallest subnormal, a tie that rounds to even): zero.
  if (a < 0x33000000) return sign;
  // Subnormal: the whole mantissa shifted down by 126 - exponent (14 to 24 bits), rounded to nearest even.
  const shift = 126 - (a >>> 23);
  const mant = (a & 0x7fffff) | 0x800000;
  return sign | ((mant + (1 << (shift - 1)) - 1 + ((mant >>> shift) & 1)) >>> shift);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bfloat16 bits nearest to float32 value `x`. */
export function bfloat16Bits(x: number): number {
  f32[0] = x;
  return bfloat16OfBits(u32[0]);
}

/** The float16 bits nearest to float32 value `x`. */
export function float16Bits(x: number): number {
  f32[0] = x;
  return float16OfBits(u32[0]);
}

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

export function toBfloat16(src: Float32Array, out: Uint16Array): void {
  const u = bitsOf(src);
  for (let i = 0; i < u.length; i++) out[i] = bfloat16OfBits(u[i]);
}

export function fromBfloat16(src: Uint16Array, out: Float32Array): void {
  const bits = bitsOf(out);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
}

export function toFloat16(src: Float32Array, out: Uint16Array): void {
  const u = bitsOf(src);
  for (let i = 0; i < u.length; i++) out[i] = float16OfBits(u[i]);
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

export type HalfDType = 'float16' | 'bfloat16';

/**
 * In one pass, what a compressed weights broadcast sends and keeps: the
 * change from `held` to `now` (subtracted in float32) in 16 bits, and `held`
 * plus what those bits decode to (added in float32), which is what a worker
 * holding `held` ends up with. The same values as subtracting, encoding,
 * decoding and adding array by array, in one pass instead of five. Each
 * change is written to `next` first, where its bits are read back.
 */
export function quantisedChange(now: Float32Array, held: Float32Array, dtype: HalfDType): { bits: Uint16Array; next: Float32Array } {
  const bits = new Uint16Array(now.length);
  const next = new Float32Array(now.length);
  const nextBits = bitsOf(next);
  if (dtype === 'bfloat16') {
    for (let k = 0; k < now.length; k++) {
      next[k] = now[k] - held[k];
      const h = bfloat16OfBits(nextBits[k]);
      bits[k] = h;
      nextBits[k] = h << 16;
      next[k] += held[k];
    }
  } else {
    const table = float16Values();
    for (let k = 0; k < now.length; k++) {
      next[k] = now[k] - held[k];
      const h = float16OfBits(nextBits[k]);
      bits[k] = h;
      next[k] = held[k] + table[h];
    }
  }
  return { bits, next };
}
