/** Reading and writing a model's weights as flat Float32Arrays (the unit of checkpoints and the wire). */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

export function readWeights(model: LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync() as Float32Array).map((a) => new Float32Array(a));
}

export function writeWeights(model: LayersModel, values: Float32Array[]): void {
  if (values.length !== model.weights.length) {
    throw new RangeError(`got ${values.length} weight tensors, the model has ${model.weights.length}`);
  }
  tf.tidy(() => {
    model.weights.forEach((w, i) => {
      const shape = w.read().shape;
      if (values[i].length !== tf.util.sizeFromShape(shape)) {
        throw new RangeError(`weight ${w.originalName} needs ${tf.util.sizeFromShape(shape)} values, got ${values[i].length}`);
      }
      w.write(tf.tensor(values[i], shape));
    });
  });
}

/** Runs `fn` with `values` in the model, then puts the model's own weights back (also when `fn` throws). */
export function withWeights<T>(model: LayersModel, values: Float32Array[], fn: () => T): T {
  const own = readWeights(model);
  writeWeights(model, values);
  try {
    return fn();
  } finally {
    writeWeights(model, own);
  }
}

/** target += change, element by element in float32: the same arithmetic wherever it runs. */
export function addInto(target: Float32Array[], change: Float32Array[]): void {
  target.forEach((t, i) => {
    const d = change[i];
    for (let j = 0; j < t.length; j++) t[j] += d[j];
  });
}
