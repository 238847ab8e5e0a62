import { UserError } from '../errors';
import { deriveSeed, SeedPurpose, seededPermutation } from '../random';

/** Indices into a dataset's training set: what is trained on and what validates it. */
export interface TrainValidationSplit {
  train: Uint32Array;
  validation: Uint32Array;
}

/**
 * Carves a validation set from the training set by a seeded permutation, so
 * every process that knows the seed and fraction derives the same split.
 * Both index lists are sorted, which keeps memory access in file order.
 */
export function splitValidation(trainCount: number, fraction: number, seed: number): TrainValidationSplit {
  if (!(fraction >= 0 && fraction < 1)) throw new UserError(`validation split ${fraction} must be in [0, 1)`);
  const perm = seededPermutation(trainCount, deriveSeed(seed, SeedPurpose.validationSplit));
  const validationCount = Math.round(trainCount * fraction);
  if (trainCount - validationCount < 1) throw new UserError(`validation split ${fraction} leaves no training samples`);
  const validation = perm.slice(0, validationCount).sort();
  const train = perm.slice(validationCount).sort();
  return { train, validation };
}
