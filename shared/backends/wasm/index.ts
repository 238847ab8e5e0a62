/**
 * gradfleet's training kernels for tfjs-backend-wasm 4.22, which ships no
 * Conv2DBackpropFilter (conv nets cannot train on it as shipped) and slow
 * loops for several other gradients, and it copies on Identity. Each replacement is checked against the
 * cpu backend in test/unit/shared/backends/wasm-kernels.test.ts. It also adds a one-pass Adam update
 * (adam-update.ts), which FusedAdam uses.
 */
import { registerAdamUpdate } from './adam-update';
import { CONV_KERNELS } from './convolutions';
import { KernelOverride, registerOverride } from './kernel-composition';
import { MATMUL_AND_SUM_KERNELS } from './matmul-and-sum';
import { MAX_POOL_GRAD_KERNEL } from './max-pool-grad';
import { SHARED_IDENTITY_KERNELS } from './shared-identity';

export const WASM_KERNEL_OVERRIDES: readonly KernelOverride[] = [
  ...CONV_KERNELS,
  MAX_POOL_GRAD_KERNEL,
  ...MATMUL_AND_SUM_KERNELS,
  ...SHARED_IDENTITY_KERNELS,
];

let registered = false;

/** Idempotent; call before or after `tf.setBackend('wasm')`. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const kernel of WASM_KERNEL_OVERRIDES) registerOverride(kernel);
  registerAdamUpdate();
}
