/**
 * gradfleet's own wasm loops (native/*.c: stride-1 NHWC convolutions, the
 * tiled 2x2 max-pool gradient, the Adam update), run on tfjs-backend-wasm's heap: the module
 * imports the backend's memory, so tensors are passed as offsets and nothing
 * is copied.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { AdamUpdateAttrs } from '../adam-update-kernel';
import { HeapBackend } from './kernel-composition';
import { KERNELS_WASM_BASE64 } from './native/kernels-wasm';

type Shape4 = [number, number, number, number];

interface KernelExports {
  conv2d(
    input: number, filter: number, out: number, zeros: number, batch: number, h: number, w: number, k: number,
    outH: number, outW: number, n: number, filterH: number, filterW: number, padTop: number, padLeft: number,
  ): void;
  conv2d_filter_grad(
    x: number, dy: number, dw: number, batch: number, h: number, w: number, ci: number,
    outH: number, outW: number, co: number, filterH: number, filterW: number, padTop: number, padLeft: number,
  ): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, batch: number, h: number, w: number, c: number, outH: number, outW: number): void;
  adam_update(
    w: number, m: number, v: number, g: number, wOut: number, mOut: number, vOut: number, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, bias1: number, bias2: number, epsilon: number, negLr: number,
  ): void;
}

/** The parts of the backend's emscripten module these kernels use. */
interface EmscriptenHeap {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(ptr: number): void };
}

interface NativeKernels {
  exports: KernelExports;
  /** A run of zero floats on the heap, read for input pixels in the padding; grown on demand. */
  zeros: { at: number; floats: number };
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<tf.KernelBackend, NativeKernels>();

function nativeKernels(backend: tf.KernelBackend): NativeKernels {
  const known = instances.get(backend);
  if (known !== undefined) return known;
  const memory = (backend as unknown as EmscriptenHeap).wasm.asm.memory;
  // The threaded build's memory is shared, which this module's import does not declare; Node never loads that build.
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
    throw new Error("gradfleet's wasm kernels need tfjs-backend-wasm's single-threaded build");
  }
  compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const created: NativeKernels = { exports: instance.exports as unknown as KernelExports, zeros: { at: 0, floats: 0 } };
  instances.set(backend, created);
  return created;
}

function zerosFor(backend: tf.KernelBackend, native: NativeKernels, floats: number): number {
  if (native.zeros.floats >= floats) return native.zeros.at;
  const { wasm } = backend as unknown as EmscriptenHeap;
  if (native.zeros.floats > 0) wasm._free(native.zeros.at);
  const at = wasm._malloc(floats * 4);
  // The view is taken after _malloc, which may have grown (and so replaced) the heap's buffer.
  new Float32Array(wasm.asm.memory.buffer, at, floats).fill(0);
  native.zeros = { at, floats };
  return at;
}

function offset(backend: tf.KernelBackend, t: TensorInfo): number {
  return (backend as unknown as HeapBackend).typedArrayFromHeap(t).byteOffset;
}

/**
 * out[b,oh,ow,n] = sum over the window of input[b, oh+fh-padTop, ow+fw-padLeft, :] . filter[fh,fw,:,n],
 * zero outside the input.
 */
export function conv2dNative(backend: tf.KernelBackend, input: TensorInfo, filter: TensorInfo, padTop: number, padLeft: number, outH: number, outW: number): TensorInfo {
  const native = nativeKernels(backend);
  const [batch, h, w, k] = input.shape as Shape4;
  const [filterH, filterW, , n] = filter.shape as Shape4;
  const zeros = zerosFor(backend, native, k);
  const out = (backend as unknown as HeapBackend).makeOutput([batch, outH, outW, n], 'float32');
  native.exports.conv2d(
    offset(backend, input), offset(backend, filter), offset(backend, out), zeros,
    batch, h, w, k, outH, outW, n, filterH, filterW, padTop, padLeft,
  );
  return out;
}

/** dw[fh,fw,c,n] = sum over b, oh, ow of x[b, oh+fh-padTop, ow+fw-padLeft, c] * dy[b,oh,ow,n], zero outside x. */
export function conv2dFilterGradNative(backend: tf.KernelBackend, x: TensorInfo, dy: TensorInfo, filterShape: Shape4, padTop: number, padLeft: number): TensorInfo {
  const native = nativeKernels(backend);
  const [batch, h, w, ci] = x.shape as Shape4;
  const [, outH, outW, co] = dy.shape as Shape4;
  const out = (backend as unknown as HeapBackend).makeOutput(filterShape, 'float32');
  native.exports.conv2d_filter_grad(
    offset(backend, x), offset(backend, dy), offset(backend, out),
    batch, h, w, ci, outH, outW, co, filterShape[0], filterShape[1], padTop, padLeft,
  );
  return out;
}

/**
 * The gradient of a 2x2, stride-2 max pool whose windows tile x: each window's gradient goes to its first
 * maximum (row-major, strict >); inputs outside every window get zero.
 */
export function maxPoolGrad2x2Native(backend: tf.KernelBackend, x: TensorInfo, dy: TensorInfo): TensorInfo {
  const native = nativeKernels(backend);
  const [batch, h, w, c] = x.shape as Shape4;
  const [, outH, outW] = dy.shape as Shape4;
  const out = (backend as unknown as HeapBackend).makeOutput(x.shape, 'float32');
  native.exports.max_pool_grad_2x2(offset(backend, x), offset(backend, dy), offset(backend, out), batch, h, w, c, outH, outW);
  return out;
}

/** One Adam update of w and its slots m and v by gradient g (see adam-update-kernel.ts): the new w, m, v. */
export function adamUpdateNative(backend: tf.KernelBackend, w: TensorInfo, m: TensorInfo, v: TensorInfo, g: TensorInfo, a: AdamUpdateAttrs): TensorInfo[] {
  const native = nativeKernels(backend);
  const outs = [w, m, v].map((t) => (backend as unknown as HeapBackend).makeOutput(t.shape, 'float32'));
  const [wOut, mOut, vOut] = outs.map((t) => offset(backend, t));
  native.exports.adam_update(
    offset(backend, w), offset(backend, m), offset(backend, v), offset(backend, g), wOut, mOut, vOut, tf.util.sizeFromShape(w.shape),
    a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.bias1, a.bias2, a.epsilon, a.negLr,
  );
  return outs;
}
