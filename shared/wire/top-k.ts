/**
 * Top-k gradient sparsification with error feedback (`--compress topk`):
 * of each tensor, only the k entries largest in magnitude travel, as
 * (index, float32 value) pairs; the rest stays behind in a residual that is
 * added to the next gradient, so nothing is dropped, only delayed (Lin et
 * al. 2018, "Deep Gradient Compression"; Stich et al. 2018, "Sparsified SGD
 * with Memory"). The worker keeps the residual; the coordinator sees dense
 * tensors with zeros where nothing was sent.
 *
 * On the wire, per tensor in header order: its kept indices (uint32,
 * strictly increasing), then their values (float32); the header says how
 * many each tensor kept.
 */
import { WireFormatError } from './wire-format-error';

/** Entries kept of a tensor of n: the fraction `ratio`, at least one. */
export function keptCount(n: number, ratio: number): number {
  return Math.min(n, Math.max(1, Math.ceil(ratio * n)));
}

/** |v|, with NaN largest of all: a broken gradient must travel, so that the coordinator sees and refuses it. */
function magnitude(v: number): number {
  return v === v ? Math.abs(v) : Infinity;
}

/** The k-th largest of `a` (1-based), by quickselect; reorders `a`. */
function kthLargest(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  return a[want];
}

export interface SparseTensors {
  kept: number[];
  /** Per tensor: indices then values, ready for the wire. */
  parts: Uint8Array[];
}

/** A worker's side: selects what to send and keeps the rest for later. */
export class TopKCompressor {
  private readonly residuals: Float32Array[];

  constructor(
    sizes: number[],
    private readonly ratio: number,
  ) {
    this.residuals = sizes.map((n) => new Float32Array(n));
  }

  /**
   * Adds `grads` to the residuals, takes out the k largest of each, and
   * returns them encoded. `tensors` names which tensors `grads` are, when a
   * part of the gradient goes out at a time.
   */
  compress(grads: ArrayLike<number>[], tensors?: number[]): SparseTensors {
    const kept: number[] = [];
    const parts = grads.map((g, j) => {
      const r = this.residuals[tensors?.[j] ?? j];
      const k = keptCount(r.length, this.ratio);
      const candidates = addAndNarrow(r, g, k);
      const count = candidates === undefined ? r.length : candidates.length;
      const at = (c: number) => (candidates === undefined ? c : candidates[c]);
      const magnitudes = new Float32Array(count);
      for (let c = 0; c < count; c++) magnitudes[c] = magnitude(r[at(c)]);
      const threshold = kthLargest(magnitudes, k);
      const bytes = new Uint8Array(8 * k);
      const indices = new Uint32Array(bytes.buffer, 0, k);
      const values = new Float32Array(bytes.buffer, 4 * k, k);
      // Everything above the threshold, then ties at it in index order, until k.
      let above = 0;
      for (let c = 0; c < count; c++) if (magnitude(r[at(c)]) > threshold) above++;
      let ties = k - above;
      let n = 0;
      for (let c = 0; c < count && n < k; c++) {
        const i = at(c);
        const m = magnitude(r[i]);
        if (m > threshold || (m === threshold && ties-- > 0)) {
          indices[n] = i;
          values[n++] = r[i];
          r[i] = 0;
        }
      }
      kept.push(k);
      return bytes;
    });
    return { kept, parts };
  }
}

/** Tensors up to this size are searched whole; larger ones are narrowed down first from a sample. */
const SAMPLE_FROM = 16_384;
const SAMPLE_SIZE = 4_096;

/**
 * r += g; returns, in index order, entries of r among which its k largest
 * in magnitude surely are, or undefined for "all of them". For a large
 * tensor, a strided sample of r + g gives a threshold a little below the
 * k-th largest (Deep Gradient Compression estimates it the same way), and
 * one pass keeps what reaches it: about 2k entries, searched exactly. If
 * fewer than k reach it, the sample misled and every entry is searched, so
 * the result is always the exact top k.
 */
function addAndNarrow(r: Float32Array, g: ArrayLike<number>, k: number): number[] | undefined {
  const n = r.length;
  if (n <= SAMPLE_FROM) {
    for (let i = 0; i < n; i++) r[i] += g[i];
    return undefined;
  }
  const sample = new Float32Array(SAMPLE_SIZE);
  const stride = n / SAMPLE_SIZE;
  for (let j = 0; j < SAMPLE_SIZE; j++) {
    const i = Math.floor(j * stride);
    sample[j] = magnitude(r[i] + g[i]);
  }
  const low = kthLargest(sample, Math.min(SAMPLE_SIZE, Math.ceil((2 * k * SAMPLE_SIZE) / n) + 8));
  if (!(low > 0)) {
    // Mostly zeros (or NaN): every entry would qualify, so skip the list and search them all.
    for (let i = 0; i < n; i++) r[i] += g[i];
    return undefined;
  }
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (magnitude((r[i] += g[i])) >= low) candidates.push(i);
  return candidates.length >= k ? candidates : undefined;
}

/**
 * The coordinator's side: dense float32 tensors from the sparse bytes, every
 * index checked. `bytes` must start 4-byte aligned (the assembler's buffer
 * starts at 0), so that each tensor's indices and values are read in place.
 */
export function expandTopK(bytes: Uint8Array, sizes: number[], kept: number[]): Float32Array[] {
  let at = bytes.byteOffset;
  return sizes.map((n, t) => {
    const k = kept[t];
    const indices = new Uint32Array(bytes.buffer, at, k);
    const values = new Float32Array(bytes.buffer, at + 4 * k, k);
    at += 8 * k;
    const dense = new Float32Array(n);
    let previous = -1;
    for (let i = 0; i < k; i++) {
      const index = indices[i];
      if (index <= previous || index >= n) throw new WireFormatError(`tensor ${t}: kept index ${index} is out of order or past its ${n} entries`);
      dense[index] = values[i];
      previous = index;
    }
    return dense;
  });
}
