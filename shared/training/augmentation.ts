/**
 * Random shifts and rotations, as in the Keras ImageDataGenerator MNIST
 * examples. Each sample's transform comes from (seed, sample index), so the
 * same sample in the same epoch is augmented identically on whichever worker
 * computes it.
 */
import { deriveSeed, mulberry32 } from '../random';
import type { ImageShape } from '../data/dataset';

export interface AugmentOptions {
  /** Maximum shift in pixels along each axis. */
  shift: number;
  /** Maximum rotation in degrees, either way. */
  rotate: number;
}

export function isAugmenting(options: AugmentOptions | undefined): options is AugmentOptions {
  return options !== undefined && (options.shift > 0 || options.rotate > 0);
}

/**
 * Writes the transformed image (normalised to [0, 1]) into `out`, sampling
 * the source bilinearly through the inverse transform; outside is black.
 */
export function augmentInto(
  src: Uint8Array,
  shape: ImageShape,
  options: AugmentOptions,
  seed: number,
  sampleIndex: number,
  out: Float32Array,
): void {
  const rand = mulberry32(deriveSeed(seed, sampleIndex));
  const dx = (rand() * 2 - 1) * options.shift;
  const dy = (rand() * 2 - 1) * options.shift;
  const angle = (((rand() * 2 - 1) * options.rotate) / 180) * Math.PI;
  const { height: H, width: W, channels: C } = shape;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Inverse map: output pixel -> source position.
      const ux = x - cx - dx;
      const uy = y - cy - dy;
      const sx = cos * ux + sin * uy + cx;
      const sy = -sin * ux + cos * uy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < C; c++) {
        let v = 0;
        for (let j = 0; j < 2; j++) {
          const yy = y0 + j;
          if (yy < 0 || yy >= H) continue;
          const wy = j === 0 ? 1 - fy : fy;
          for (let i = 0; i < 2; i++) {
            const xx = x0 + i;
            if (xx < 0 || xx >= W) continue;
            const wx = i === 0 ? 1 - fx : fx;
            v += wx * wy * src[(yy * W + xx) * C + c];
          }
        }
        out[(y * W + x) * C + c] = v / 255;
      }
    }
  }
}
