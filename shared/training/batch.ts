/** Assembles the input of a forward pass from sample indices. */
import { LabelledImages, ImageShape, pixelsPerImage } from '../data/dataset';
import { AugmentOptions, augmentInto, isAugmenting } from './augmentation';

export interface Batch {
  /** count * H * W * C floats in [0, 1]. */
  pixels: Float32Array;
  labels: Int32Array;
  count: number;
}

export function assembleBatch(
  set: LabelledImages,
  shape: ImageShape,
  indices: ArrayLike<number>,
  augment?: { options: AugmentOptions; seed: number },
): Batch {
  const n = pixelsPerImage(shape);
  const pixels = new Float32Array(indices.length * n);
  const labels = new Int32Array(indices.length);
  const scale = 1 / 255;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!(index >= 0 && index < set.count)) throw new RangeError(`sample index ${index} is outside 0..${set.count - 1}`);
    const src = set.images.subarray(index * n, (index + 1) * n);
    labels[i] = set.labels[index];
    if (augment !== undefined && isAugmenting(augment.options)) {
      augmentInto(src, shape, augment.options, augment.seed, index, pixels.subarray(i * n, (i + 1) * n));
    } else {
      const o = i * n;
      for (let p = 0; p < n; p++) pixels[o + p] = src[p] * scale;
    }
  }
  return { pixels, labels, count: indices.length };
}
