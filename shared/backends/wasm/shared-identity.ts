/**
 * Identity and same-dtype Cast without a copy. In gradient mode the tfjs
 * engine clones every tensor it saves for the backward pass (an Identity
 * kernel), and Relu's gradient casts float32 to float32; the wasm backend
 * copies the data each time (~3 ms a keras-cnn step). Tensors are immutable,
 * so sharing the buffer with a reference count, as the cpu backend's
 * Identity does, is the same result without the copy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelArgs, KernelOverride } from './kernel-composition';

interface RefCountedBackend {
  incRef(dataId: object): void;
}

function share(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  (args.backend as unknown as RefCountedBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const notString = (args: KernelArgs) => args.inputs.x.dtype !== 'string';

export const SHARED_IDENTITY_KERNELS: readonly KernelOverride[] = [
  { name: tf.Identity, covered: notString, impl: share },
  { name: tf.Cast, covered: (args) => notString(args) && args.attrs?.dtype === args.inputs.x.dtype, impl: share },
];
