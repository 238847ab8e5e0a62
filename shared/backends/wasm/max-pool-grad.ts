import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { HeapBackend, KernelArgs, KernelOverride, Pad } from './kernel-composition';

function maxPoolGradCovered(args: KernelArgs): boolean {
  const rounding = args.attrs?.dimRoundingMode;
  return rounding === undefined || rounding === null;
}

/**
 * Routes each output gradient to the first maximum of its window (row-major),
 * as the cpu backend and TensorFlow do. One pass over the windows in place on
 * the wasm heap: the stock kernel walks every input against every window, and
 * the wasm MaxPoolWithArgmax picks the last maximum on ties, which is common
 * after ReLU on flat image backgrounds.
 */
/** 2x2 windows at stride 2 with no padding inside the image: the common case, tiled without overlap. */
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

/** The tiled 2x2 case unrolled: four candidates per channel, first maximum wins (strict >). */
function grad2x2(info: tf.backend_util.Conv2DInfo, x: Float32Array, g: Float32Array, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth } = info;
  const rowStride = inWidth * C;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const p00 = (b * inHeight + 2 * oh) * rowStride + 2 * ow * C;
        const p01 = p00 + C;
        const p10 = p00 + rowStride;
        const p11 = p10 + C;
        for (let c = 0; c < C; c++, o++) {
          let at = p00 + c;
          let best = x[at];
          if (x[p01 + c] > best) {
            at = p01 + c;
            best = x[at];
          }
          if (x[p10 + c] > best) {
            at = p10 + c;
            best = x[at];
          }
          if (x[p11 + c] > best) at = p11 + c;
          dx[at] = g[o];
        }
      }
    }
  }
}

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
  const out = backend.makeOutput(input.shape, 'float32');
  // Views are taken after the allocation above, which may grow the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  if (isTiled2x2(info)) {
    grad2x2(info, x, g, dx);
    return out;
  }
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
