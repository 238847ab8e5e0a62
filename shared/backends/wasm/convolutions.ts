/**
 * Stride-1 NHWC convolutions and their gradients on gradfleet's own loops
 * (native-kernels.ts), for the cases every preset uses:
 *  - forward: XNNPACK's convolution, which the stock kernel calls, was
 *    1.1-1.8x slower than ours on the presets' layers (bench:profile);
 *  - filter gradient, dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh+kh-pt, ow+kw-pl, ci] * dy[b,oh,ow,co]:
 *    stock tfjs-backend-wasm has no kernel at all;
 *  - input gradient: a "full" convolution of dy with the filter turned by
 *    180 degrees and its channels swapped (the stock kernel is a scalar loop).
 * Other strides and dilations keep the stock kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { allFloat32, composed, forwardPadding, isChannelsLast, isUnitPair, KernelArgs, KernelOverride, Pad, run, transpose } from './kernel-composition';
import { conv2dFilterGradNative, conv2dNative } from './native-kernels';

type Shape4 = [number, number, number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function strideOneNhwc(args: KernelArgs): boolean {
  const attrs = args.attrs ?? {};
  return allFloat32(args) && isUnitPair(attrs.strides as [number, number]) && isUnitPair(attrs.dilations as [number, number]) && isChannelsLast(attrs.dataFormat);
}

function padding(xShape: Shape4, filterShape: Shape4, args: KernelArgs): tf.backend_util.Conv2DInfo {
  const attrs = args.attrs!;
  return forwardPadding(xShape, filterShape, attrs.pad as Pad, attrs.dimRoundingMode as Rounding);
}

function conv2d(args: KernelArgs): TensorInfo {
  const { x, filter } = args.inputs;
  const info = padding(x.shape as Shape4, filter.shape as Shape4, args);
  return conv2dNative(args.backend, x, filter, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth);
}

function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const filterShape = args.attrs!.filterShape as Shape4;
  const { top, left } = padding(x.shape as Shape4, filterShape, args).padInfo;
  return conv2dFilterGradNative(args.backend, x, dy, filterShape, top, left);
}

function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { dy, filter } = args.inputs;
  const inputShape = args.attrs!.inputShape as Shape4;
  const [kh, kw] = filter.shape;
  const { top, left } = padding(inputShape, filter.shape as Shape4, args).padInfo;
  return composed(backend, (keep) => {
    const turned = keep(run(tf.Reverse, { inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
    const swapped = keep(transpose(backend, turned, [0, 1, 3, 2])); // [KH,KW,Co,Ci]
    // The "full" convolution pads dy by K-1 minus the forward padding (the bottom and right follow from the output size).
    return conv2dNative(backend, dy, swapped, kh - 1 - top, kw - 1 - left, inputShape[1], inputShape[2]);
  });
}

export const CONV_KERNELS: readonly KernelOverride[] = [
  { name: tf.Conv2D, covered: strideOneNhwc, impl: conv2d },
  { name: tf.Conv2DBackpropFilter, covered: strideOneNhwc, impl: conv2dBackpropFilter },
  { name: tf.Conv2DBackpropInput, covered: strideOneNhwc, impl: conv2dBackpropInput },
];
