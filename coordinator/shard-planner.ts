/**
 * How a global batch is cut into contiguous shards, one per worker, sized in
 * proportion to each worker's measured throughput (largest remainders), so
 * a step ends when the fastest workers would, not the slowest.
 */
export interface ShardRange {
  start: number;
  end: number;
}

/**
 * Splits `count` samples by `weights` (samples/s estimates; non-positive
 * counts as the mean). With `unit` > 1 every shard starts at a multiple of
 * `unit` (deterministic runs: micro-batches never straddle two shards).
 */
export function planShards(count: number, weights: readonly number[], unit = 1): ShardRange[] {
  if (unit > 1) {
    return planShards(Math.ceil(count / unit), weights).map((r) => ({ start: Math.min(count, r.start * unit), end: Math.min(count, r.end * unit) }));
  }
  if (weights.length === 0) throw new RangeError('no workers to plan shards for');
  const positive = weights.filter((w) => w > 0 && Number.isFinite(w));
  const mean = positive.length > 0 ? positive.reduce((a, b) => a + b, 0) / positive.length : 1;
  const w = weights.map((x) => (x > 0 && Number.isFinite(x) ? x : mean));
  const total = w.reduce((a, b) => a + b, 0);
  const exact = w.map((x) => (count * x) / total);
  const sizes = exact.map(Math.floor);
  let left = count - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length, left--) sizes[byRemainder[k].i]++;
  const ranges: ShardRange[] = [];
  let start = 0;
  for (const size of sizes) {
    ranges.push({ start, end: start + size });
    start += size;
  }
  return ranges;
}
