/**
 * Convolution gradients as forward convolutions and matrix products
 * (XNNPACK), for stride 1 and NHWC: the cases every preset uses.
 *
 * Filter gradient, dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh+kh-pt, ow+kw-pl, ci] * dy[b,oh,ow,co]:
 *  - as a convolution, once batch and channels swap roles:
 *    conv2d(x^T:[Ci,H,W,B], dy^T:[OH,OW,B,Co]) -> [Ci,KH,KW,Co];
 *  - or, when a patch (KH*KW*Ci values) is no longer than Co, as
 *    patches^T . dy, the patches extracted by a convolution with a one-hot
 *    filter: cheap for first layers (Ci = 1), where the form above has only
 *    Ci = 1 "image" and wastes most of XNNPACK's tile.
 * Input gradient of a stride-1 convolution: a "full" convolution of dy with
 * the filter turned by 180 degrees and its channels swapped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { composed, forwardPadding, HeapBackend, isChannelsLast, isUnitPair, KernelArgs, KernelOverride, Pad, run, transpose } from './kernel-composition';

type Shape4 = [number, number, number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function strideOneNhwc(args: KernelArgs): boolean {
  const attrs = args.attrs ?? {};
  return isUnitPair(attrs.strides as [number, number]) && isChannelsLast(attrs.dataFormat);
}

function conv(backend: tf.KernelBackend, x: TensorInfo, filter: TensorInfo, pad: Pad): TensorInfo {
  return run(tf.Conv2D, { inputs: { x, filter }, backend, attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] } });
}

function matMul(backend: tf.KernelBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  return run(tf.BatchMatMul, { inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
}

function reshape(backend: tf.KernelBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return run(tf.Reshape, { inputs: { x }, backend, attrs: { shape } });
}

const patchFilters = new WeakMap<tf.KernelBackend, Map<string, TensorInfo>>();

/**
 * A [KH,KW,Ci,KH*KW*Ci] filter whose convolution copies each input patch into
 * the channels. Kept per backend: XNNPACK caches a packed operator per filter
 * tensor, and a new filter every step would repack it every step.
 */
function patchFilter(backend: tf.KernelBackend, kh: number, kw: number, ci: number): TensorInfo {
  let byShape = patchFilters.get(backend);
  if (byShape === undefined) patchFilters.set(backend, (byShape = new Map()));
  const key = `${kh}x${kw}x${ci}`;
  const cached = byShape.get(key);
  if (cached !== undefined) return cached;
  const p = kh * kw * ci;
  const heap = backend as unknown as HeapBackend;
  const out = heap.makeOutput([kh, kw, ci, p], 'float32');
  const values = heap.typedArrayFromHeap(out);
  values.fill(0);
  for (let i = 0; i < p; i++) values[i * p + i] = 1;
  byShape.set(key, out);
  return out;
}

function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { x, dy } = args.inputs;
  const attrs = args.attrs!;
  const [kh, kw, ci, co] = attrs.filterShape as Shape4;
  const info = forwardPadding(x.shape as Shape4, [kh, kw, ci, co], attrs.pad as Pad, attrs.dimRoundingMode as Rounding);
  const { top, bottom, left, right } = info.padInfo;
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
  const patch = kh * kw * ci;
  return composed(backend, (keep) => {
    if (patch <= co) {
      const patches = keep(conv(backend, x, patchFilter(backend, kh, kw, ci), pad)); // [B,OH,OW,P]
      const rows = tf.util.sizeFromShape(patches.shape) / patch;
      const patchesT = keep(transpose(backend, keep(reshape(backend, patches, [rows, patch])), [1, 0])); // [P, rows]
      const dW = keep(matMul(backend, patchesT, keep(reshape(backend, dy, [rows, co])))); // [P, Co]
      return reshape(backend, dW, [kh, kw, ci, co]);
    }
    const xT = keep(transpose(backend, x, [3, 1, 2, 0])); // [Ci,H,W,B]
    const dyT = keep(transpose(backend, dy, [1, 2, 0, 3])); // [OH,OW,B,Co]
    const dW = keep(conv(backend, xT, dyT, pad)); // [Ci,KH,KW,Co]
    return transpose(backend, dW, [1, 2, 0, 3]);
  });
}

function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { dy, filter } = args.inputs;
  const attrs = args.attrs!;
  const [kh, kw] = filter.shape;
  const info = forwardPadding(attrs.inputShape as Shape4, filter.shape as Shape4, attrs.pad as Pad, attrs.dimRoundingMode as Rounding);
  const { top, bottom, left, right } = info.padInfo;
  return composed(backend, (keep) => {
    const turned = keep(run(tf.Reverse, { inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
    const swapped = keep(transpose(backend, turned, [0, 1, 3, 2])); // [KH,KW,Co,Ci]
    // The "full" convolution pads dy by K-1 minus the forward padding on each side.
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]];
    return conv(backend, dy, swapped, pad);
  });
}

/** Forward padding above K-1 (possible only with explicit padding) would need a negative full-conv pad. */
function inputGradPaddingFits(args: KernelArgs): boolean {
  const attrs = args.attrs ?? {};
  const [kh, kw] = args.inputs.filter.shape;
  const info = forwardPadding(attrs.inputShape as Shape4, args.inputs.filter.shape as Shape4, attrs.pad as Pad, attrs.dimRoundingMode as Rounding);
  const p = info.padInfo;
  return Math.max(p.top, p.bottom) <= kh - 1 && Math.max(p.left, p.right) <= kw - 1;
}

export const CONV_BACKPROP_KERNELS: readonly KernelOverride[] = [
  { name: tf.Conv2DBackpropFilter, covered: strideOneNhwc, impl: conv2dBackpropFilter },
  { name: tf.Conv2DBackpropInput, covered: (a) => strideOneNhwc(a) && inputGradPaddingFits(a), impl: conv2dBackpropInput },
];
