import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../shared/backends/backend-loader';

/** Runs `fn` on each backend in turn and returns the results by backend name. */
export async function onBackends<T>(names: ('wasm' | 'cpu')[], fn: () => T): Promise<Record<string, T>> {
  const out: Record<string, T> = {};
  for (const name of names) {
    await initBackend(name);
    out[name] = fn();
  }
  return out;
}

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  await initBackend(name);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Fails if `fn` leaves tensors behind, as tfjs's own expectNoLeakedTensors. */
export function expectNoLeakedTensors<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const result = fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`leaked ${after - before} tensors`);
  return result;
}
