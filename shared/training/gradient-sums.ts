/** Combining the gradient sums of shards into the sums of a whole batch. */
import type { GradientSums } from './gradient-step';

/** Zero sums for tensors of these sizes; float64 accumulators keep partial sums exact enough to add in any order. */
export function emptySums(sizes: readonly number[], array: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): GradientSums {
  return { grads: sizes.map((n) => new array(n)), count: 0, lossSum: 0, correct: 0 };
}

/** Adds `part` into `total` in place. Shards are added in a fixed order so results replay exactly. */
export function addSums(total: GradientSums, part: GradientSums): void {
  if (part.grads.length !== total.grads.length) {
    throw new RangeError(`gradient has ${part.grads.length} tensors, expected ${total.grads.length}`);
  }
  part.grads.forEach((g, i) => {
    const t = total.grads[i];
    if (g.length !== t.length) throw new RangeError(`gradient ${i} has ${g.length} values, expected ${t.length}`);
    for (let j = 0; j < g.length; j++) t[j] += g[j];
  });
  total.count += part.count;
  total.lossSum += part.lossSum;
  total.correct += part.correct;
}
