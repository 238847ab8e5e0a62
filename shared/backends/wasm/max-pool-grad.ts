import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { allFloat32, HeapBackend, KernelArgs, KernelOverride, Pad } from './kernel-composition';
import { maxPoolGrad2x2Native } from './native-kernels';

function maxPoolGradCovered(args: KernelArgs): boolean {
  const rounding = args.attrs?.dimRoundingMode;
  return allFloat32(args) && (rounding === undefined || rounding === null);
}

/** 2x2 windows at stride 2 with no padding inside the image: every preset's pooling, done in native/max-pool-grad.c. */
function isTiled2x2(info: tf.backend_util.Conv2DInfo): boolean {
  return (
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight * 2 <= info.inHeight &&
    info.outWidth * 2 <= info.inWidth
  );
}

/**
 * Routes each output gradient to the first maximum of its window (row-major),
 * as the cpu backend and TensorFlow do. One pass over the windows in place on
 * the wasm heap (the tiled 2x2 case in C, the rest here): the stock kernel walks every input against every window, and
 * the wasm MaxPoolWithArgmax picks the last maximum on ties, which is common
 * after ReLU on flat image backgrounds.
 */
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as unknown as HeapBackend;
  const { dy, input } = args.inputs;
  const attrs = args.attrs!;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as Pad,
  );
  if (isTiled2x2(info)) return maxPoolGrad2x2Native(args.backend, input, dy);
  const out = backend.makeOutput(input.shape, 'float32');
  // Views are taken after the allocation above, which may grow the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Channels are innermost in memory, so each window keeps a running best per channel.
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * C;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = Math.max(0, oh * strideHeight - top);
      const h1 = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = Math.max(0, ow * strideWidth - left);
        const w1 = Math.min(inWidth, ow * strideWidth - left + filterWidth);
        best.fill(-Infinity);
        at.fill(-1);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const base = xb + (h * inWidth + w) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const o = ((b * outHeight + oh) * outWidth + ow) * C;
        for (let c = 0; c < C; c++) if (at[c] >= 0) dx[at[c]] += g[o + c];
      }
    }
  }
  return out;
}


export const MAX_POOL_GRAD_KERNEL: KernelOverride = { name: tf.MaxPoolGrad, covered: maxPoolGradCovered, impl: maxPoolGrad };
