/** `gradfleet predict`: the top class and class probabilities of a saved model for image files. */
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, initBackend } from '../shared/backends/backend-loader';
import { toModelInput } from '../shared/data/digit-preprocess';
import { decodeImageFile } from '../shared/data/image-codec';
import { ModelError } from '../shared/errors';
import { loadSavedModel } from './evaluate-checkpoint';

export interface Prediction {
  file: string;
  class: number;
  probability: number;
  probabilities: number[];
}

export async function predictFiles(req: { checkpoint: string; files: string[]; backend: BackendName }): Promise<Prediction[]> {
  await initBackend(req.backend);
  const model = await loadSavedModel(req.checkpoint);
  try {
    const [, height, width, channels] = model.inputs[0].shape;
    if (height === null || width === null || (channels !== 1 && channels !== 3)) {
      throw new ModelError(`${req.checkpoint}: the model's input [${model.inputs[0].shape}] is not an image of fixed size`);
    }
    const shape = { height, width, channels: channels as 1 | 3 };
    const pixels = new Float32Array(req.files.length * height * width * channels);
    req.files.forEach((file, i) => {
      const input = toModelInput(decodeImageFile(file), shape);
      for (let p = 0; p < input.length; p++) pixels[i * input.length + p] = input[p] / 255;
    });
    const probabilities = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [req.files.length, height, width, channels])) as tf.Tensor2D).arraySync());
    return req.files.map((file, i) => {
      const p = probabilities[i];
      const best = p.indexOf(Math.max(...p));
      return { file, class: best, probability: p[best], probabilities: p };
    });
  } finally {
    model.dispose();
  }
}

export function formatPrediction(p: Prediction, top = 3): string {
  const ranked = p.probabilities
    .map((v, c) => ({ c, v }))
    .sort((a, b) => b.v - a.v)
    .slice(0, top)
    .map(({ c, v }) => `${c} ${(v * 100).toFixed(1)}%`);
  return `${p.file}: ${p.class} (${(p.probability * 100).toFixed(1)}%)  top ${top}: ${ranked.join(', ')}`;
}
