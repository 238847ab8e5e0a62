/**
 * Training kernels for the wasm backend, composed from its fast forward
 * kernels (XNNPACK convolutions, transposes).
 *
 * tfjs-backend-wasm 4.22 ships no Conv2DBackpropFilter, so conv nets cannot
 * train on it; its Conv2DBackpropInput and MaxPoolGrad are plain loops. The
 * identities used here:
 *  - the filter gradient is a convolution of the input with the output
 *    gradient, once batch and channels swap roles:
 *      dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh+kh-pt, ow+kw-pl, ci] * dy[b,oh,ow,co]
 *    i.e. conv2d(x^T:[Ci,H,W,B], dy^T:[OH,OW,B,Co]) -> [Ci,KH,KW,Co];
 *  - the input gradient of a stride-1 convolution is a "full" convolution of
 *    dy with the filter turned by 180 degrees and its channels swapped;
 *  - max-pool's gradient routes dy to the first maximum of each window; that
 *    one is a single loop on the wasm heap (see maxPoolGrad for why).
 * Cases outside these (strides > 1, dilations, NCHW) go to the stock kernel,
 * whose setup function is kept so it stays usable.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: tf.KernelBackend;
  attrs?: NamedAttrMap;
}

const WASM = 'wasm';

/** Calls another kernel of the same backend directly, as backends do internally. */
function run(name: string, args: KernelArgs): TensorInfo {
  const kernel = tf.getKernel(name, WASM);
  if (kernel === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const out = kernel.kernelFunc(args as Parameters<KernelFunc>[0]);
  return (Array.isArray(out) ? out[0] : out) as TensorInfo;
}

/** Runs `body` and frees every intermediate it registered except the result. */
function composed(backend: tf.KernelBackend, body: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => {
    temps.push(t);
    return t;
  };
  const result = body(keep);
  for (const t of temps) if (t !== result) backend.disposeData(t.dataId);
  return result;
}

function transpose(backend: tf.KernelBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return run(tf.Transpose, { inputs: { x }, backend, attrs: { perm } });
}

function isUnitPair(v: number | [number, number] | undefined): boolean {
  if (v === undefined) return true;
  return typeof v === 'number' ? v === 1 : v[0] === 1 && v[1] === 1;
}

function isChannelsLast(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

/** Explicit [top,bottom] / [left,right] padding of a forward conv, from tfjs's own arithmetic. */
function forwardPadding(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, pad, dimRoundingMode, false, 'channelsLast');
}

// ---- Conv2DBackpropFilter -------------------------------------------------

export function conv2dBackpropFilterCovered(attrs: NamedAttrMap): boolean {
  return isUnitPair(attrs.strides as [number, number]) && isChannelsLast(attrs.dataFormat);
}

function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { x, dy } = args.inputs;
  const attrs = args.attrs!;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = forwardPadding(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { top, bottom, left, right } = info.padInfo;
  return composed(backend, (keep) => {
    const xT = keep(transpose(backend, x, [3, 1, 2, 0])); // [Ci,H,W,B]
    const dyT = keep(transpose(backend, dy, [1, 2, 0, 3])); // [OH,OW,B,Co]
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
    const dW = keep(
      run(tf.Conv2D, {
        inputs: { x: xT, filter: dyT },
        backend,
        attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
      }),
    ); // [Ci,KH,KW,Co]
    return transpose(backend, dW, [1, 2, 0, 3]);
  });
}

// ---- Conv2DBackpropInput --------------------------------------------------

export function conv2dBackpropInputCovered(attrs: NamedAttrMap): boolean {
  return isUnitPair(attrs.strides as [number, number]) && isChannelsLast(attrs.dataFormat);
}

function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { dy, filter } = args.inputs;
  const attrs = args.attrs!;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const [kh, kw] = filter.shape;
  const info = forwardPadding(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { top, bottom, left, right } = info.padInfo;
  return composed(backend, (keep) => {
    const turned = keep(run(tf.Reverse, { inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
    const swapped = keep(transpose(backend, turned, [0, 1, 3, 2])); // [KH,KW,Co,Ci]
    // The "full" convolution pads dy by K-1 minus the forward padding on each side.
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
      [0, 0],
    ];
    return run(tf.Conv2D, {
      inputs: { x: dy, filter: swapped },
      backend,
      attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
    });
  });
}

// ---- MaxPoolGrad ----------------------------------------------------------

/** The two public methods of the wasm backend that a JS-side kernel needs. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.TypedArray;
}

export function maxPoolGradCovered(attrs: NamedAttrMap): boolean {
  return attrs.dimRoundingMode === undefined || attrs.dimRoundingMode === null;
}

/**
 * Routes each output gradient to the first maximum of its window (row-major),
 * as the cpu backend and TensorFlow do. One pass over the windows in place on
 * the wasm heap: the stock kernel walks every input against every window, and
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

// ---- registration ---------------------------------------------------------

interface ComposedKernel {
  name: string;
  covered: (attrs: NamedAttrMap) => boolean;
  impl: (args: KernelArgs) => TensorInfo;
}

export const COMPOSED_KERNELS: readonly ComposedKernel[] = [
  { name: tf.Conv2DBackpropFilter, covered: conv2dBackpropFilterCovered, impl: conv2dBackpropFilter },
  { name: tf.Conv2DBackpropInput, covered: conv2dBackpropInputCovered, impl: conv2dBackpropInput },
  { name: tf.MaxPoolGrad, covered: maxPoolGradCovered, impl: maxPoolGrad },
];

let registered = false;

/**
 * Replaces (or adds) the wasm kernels above. Call before `tf.setBackend('wasm')`
 * or after: the stock setup functions are kept, so a stock fallback works
 * either way. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const kernel of COMPOSED_KERNELS) {
    const stock: KernelConfig | undefined = tf.getKernel(kernel.name, WASM);
    if (stock !== undefined) tf.unregisterKernel(kernel.name, WASM);
    const kernelFunc = (args: KernelArgs): TensorInfo => {
      const attrs = args.attrs ?? {};
      if (kernel.covered(attrs)) return kernel.impl(args);
      if (stock === undefined) {
        throw new Error(`${kernel.name} on wasm supports stride 1, NHWC only (got ${JSON.stringify(attrs.strides)})`);
      }
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    };
    tf.registerKernel({
      kernelName: kernel.name,
      backendName: WASM,
      setupFunc: stock?.setupFunc,
      disposeFunc: stock?.disposeFunc,
      kernelFunc: kernelFunc as unknown as KernelFunc,
    });
  }
}
