/**
 * Which samples make up each global batch. Fixed by the seed, the epoch and
 * the step alone (never by how many workers are alive): a seeded permutation
 * of the training indices per epoch, cut into consecutive global batches;
 * the last batch of an epoch may be smaller, as in Keras.
 */
import { deriveSeed, SeedPurpose, seededPermutation } from '../random';

export function stepsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.ceil(trainCount / batchSize);
}

export function epochOrder(trainIndices: Uint32Array, seed: number, epoch: number): Uint32Array {
  const perm = seededPermutation(trainIndices.length, deriveSeed(seed, SeedPurpose.epochPermutation, epoch));
  const order = new Uint32Array(trainIndices.length);
  for (let i = 0; i < perm.length; i++) order[i] = trainIndices[perm[i]];
  return order;
}

/** The sample indices of batch `stepInEpoch` of an epoch's order. */
export function globalBatch(order: Uint32Array, batchSize: number, stepInEpoch: number): Uint32Array {
  return order.subarray(stepInEpoch * batchSize, Math.min(order.length, (stepInEpoch + 1) * batchSize));
}

/** The seed of an epoch's augmentation and dropout. */
export function epochSeed(seed: number, epoch: number): number {
  return deriveSeed(seed, SeedPurpose.augmentation, epoch);
}
