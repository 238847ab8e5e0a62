/** The Adam update kernel (adam-update-kernel.ts) on gradfleet's own wasm loop; tfjs-backend-wasm has none. */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ADAM_UPDATE_KERNEL, AdamUpdateAttrs } from '../adam-update-kernel';
import { allFloat32, KernelArgs, WASM } from './kernel-composition';
import { adamUpdateNative } from './native-kernels';

function adamUpdate(args: KernelArgs): TensorInfo[] {
  const { w, m, v, g } = args.inputs;
  if (!allFloat32(args)) throw new Error(`${ADAM_UPDATE_KERNEL} on wasm: float32 tensors only`);
  const size = tf.util.sizeFromShape(w.shape);
  if ([m, v, g].some((t) => tf.util.sizeFromShape(t.shape) !== size)) throw new Error(`${ADAM_UPDATE_KERNEL}: w, m, v and g must have one shape`);
  return adamUpdateNative(args.backend, w, m, v, g, args.attrs as unknown as AdamUpdateAttrs);
}

export function registerAdamUpdate(): void {
  tf.registerKernel({ kernelName: ADAM_UPDATE_KERNEL, backendName: WASM, kernelFunc: adamUpdate as unknown as KernelFunc });
}
