/** Combining the gradient sums of shards into the sums of a whole batch. */
import type { GradientSums } from './gradient-step';
import type { FloatArray } from '../wire/tensor-codec';

/** Zero sums for tensors of these sizes; float64 accumulators keep partial sums exact enough to add in any order. */
export function emptySums(sizes: readonly number[], array: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): GradientSums {
  return { grads: sizes.map((n) => new array(n)), count: 0, lossSum: 0, correct: 0 };
}

/** Adds `part` into `total` in place. Shards are added in a fixed order so results replay exactly. */
export function addSums(total: GradientSums, part: GradientSums): void {
  if (part.grads.length !== total.grads.length) {
    throw new RangeError(`gradient has ${part.grads.length} tensors, expected ${total.grads.length}`);
  }
  part.grads.forEach((g, i) => addGradient(total.grads[i], g, i));
  total.count += part.count;
  total.lossSum += part.lossSum;
  total.correct += part.correct;
}

/** Adds gradient tensor number `index` of one shard into the running sum `total`, in place. */
export function addGradient(total: FloatArray, part: ArrayLike<number>, index: number): void {
  if (part.length !== total.length) throw new RangeError(`gradient ${index} has ${part.length} values, expected ${total.length}`);
  for (let j = 0; j < part.length; j++) total[j] += part[j];
}

/** What in `sums` is not finite ('a non-finite loss', 'NaN', 'Inf'), or undefined when all of it is. */
export function firstNonFinite(sums: GradientSums): string | undefined {
  if (!Number.isFinite(sums.lossSum)) return 'a non-finite loss';
  for (const g of sums.grads) {
    const i = indexOfNonFinite(g);
    if (i >= 0) return Number.isNaN(g[i]) ? 'NaN' : 'Inf';
  }
  return undefined;
}

/** The index of the first NaN or infinity in `g`, or -1. float32 values are judged by their exponent bits (all ones), read as integers, without turning each into a double. */
export function indexOfNonFinite(g: FloatArray): number {
  if (g instanceof Float32Array) {
    const bits = new Uint32Array(g.buffer, g.byteOffset, g.length);
    for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7f800000) === 0x7f800000) return i;
    return -1;
  }
  for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) return i;
  return -1;
}
