/**
 * Helpers for kernels composed from other wasm kernels: calling a kernel
 * directly (as backends do internally, outside the engine and its tape),
 * freeing intermediates, and replacing a stock kernel while keeping it as
 * the fallback for cases the replacement does not cover.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

export type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: tf.KernelBackend;
  attrs?: NamedAttrMap;
}

export const WASM = 'wasm';

/** Calls another kernel of the same backend directly, as backends do internally. */
export function run(name: string, args: KernelArgs): TensorInfo {
  const kernel = tf.getKernel(name, WASM);
  if (kernel === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const out = kernel.kernelFunc(args as Parameters<KernelFunc>[0]);
  return (Array.isArray(out) ? out[0] : out) as TensorInfo;
}

/** Runs `body` and frees every intermediate it registered except the result. */
export function composed(backend: tf.KernelBackend, body: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => {
    temps.push(t);
    return t;
  };
  const result = body(keep);
  for (const t of temps) if (t !== result) backend.disposeData(t.dataId);
  return result;
}

export function transpose(backend: tf.KernelBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return run(tf.Transpose, { inputs: { x }, backend, attrs: { perm } });
}

/** gradfleet's own loops handle float32 tensors only; other dtypes keep the stock kernels. */
export function allFloat32(args: KernelArgs): boolean {
  return Object.values(args.inputs).every((t) => t.dtype === 'float32');
}

export function isUnitPair(v: number | [number, number] | undefined): boolean {
  if (v === undefined) return true;
  return typeof v === 'number' ? v === 1 : v[0] === 1 && v[1] === 1;
}

export function isChannelsLast(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

/** Explicit [top,bottom] / [left,right] padding of a forward conv, from tfjs's own arithmetic. */
export function forwardPadding(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, pad, dimRoundingMode, false, 'channelsLast');
}

/** The two public methods of the wasm backend that a JS-side kernel needs. */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.TypedArray;
}

export interface KernelOverride {
  name: string;
  /** Whether this implementation handles the call; if not, the stock kernel does. */
  covered: (args: KernelArgs) => boolean;
  impl: (args: KernelArgs) => TensorInfo;
}

const stockKernels = new Map<string, KernelConfig | undefined>();

/** The kernel tfjs-backend-wasm ships under `name`, if any, once gradfleet's replaced it (bench:profile compares the two). */
export function stockKernel(name: string): KernelConfig | undefined {
  return stockKernels.get(name);
}

/**
 * Replaces (or adds) a wasm kernel. The stock setup function is kept, so the
 * stock kernel stays usable as the fallback whether or not the backend was
 * initialised before.
 */
export function registerOverride(kernel: KernelOverride): void {
  const stock: KernelConfig | undefined = tf.getKernel(kernel.name, WASM);
  stockKernels.set(kernel.name, stock);
  if (stock !== undefined) tf.unregisterKernel(kernel.name, WASM);
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    if (kernel.covered(args)) return kernel.impl(args);
    if (stock === undefined) throw new Error(`${kernel.name} on wasm: case not supported (${JSON.stringify(args.attrs)})`);
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
