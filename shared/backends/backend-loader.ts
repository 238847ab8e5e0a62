/**
 * Chooses and initialises the compute backend. The native TensorFlow bindings
 * are optional dependencies that download libtensorflow at install time, so
 * they are loaded lazily and their absence is an ordinary, logged outcome.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, ConfigError } from '../errors';
import { getLogger } from '../logging';
import { registerWasmTrainingKernels } from './wasm';

export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

const AUTO_ORDER: readonly ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  name: ConcreteBackend;
  /** Why each backend tried before this one was skipped. */
  skipped: { name: ConcreteBackend; reason: string }[];
}

export function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new ConfigError(`unknown backend '${value}' (expected one of: ${BACKEND_NAMES.join(', ')})`);
}

/** Loads a backend's package and makes it the active tfjs backend. */
async function activate(name: ConcreteBackend): Promise<void> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      try {
        require(pkg);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'MODULE_NOT_FOUND' ? `${pkg} is not installed` : (err as Error).message.split('\n')[0];
        throw new BackendUnavailableError(why);
      }
      await setBackendOrThrow('tensorflow');
      return;
    }
    case 'wasm':
      require('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      await setBackendOrThrow('wasm');
      return;
    case 'cpu':
      require('@tensorflow/tfjs-backend-cpu');
      await setBackendOrThrow('cpu');
      return;
  }
}

async function setBackendOrThrow(tfName: string): Promise<void> {
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new BackendUnavailableError(`tfjs backend '${tfName}' failed to initialise`);
  await tf.ready();
}

/**
 * Initialises the requested backend; `auto` tries tensorflow-gpu, tensorflow,
 * wasm, cpu in that order and logs why each earlier one was skipped.
 */
export async function initBackend(requested: BackendName): Promise<BackendChoice> {
  const log = getLogger({ component: 'backend' });
  // PROD silences tfjs's console banner ("Hi, looks like you are running
  // TensorFlow.js in Node.js...") that would otherwise interleave with our output.
  tf.env().set('PROD', true);
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of candidates) {
    try {
      await activate(name);
      for (const s of skipped) log.info(`skipped backend ${s.name}: ${s.reason}`);
      log.info(`using backend ${name}${requested === 'auto' ? ' (auto)' : ''}`);
      return { name, skipped };
    } catch (err) {
      const reason = (err as Error).message;
      if (requested !== 'auto') throw new BackendUnavailableError(`backend '${name}' is unavailable: ${reason}`);
      skipped.push({ name, reason });
    }
  }
  throw new BackendUnavailableError(`no backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
