/**
 * Transfer learning: start from another run's saved weights, layer by layer
 * while the shapes agree (a new head for a new class count is fine), and
 * optionally keep the first layers fixed.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../errors';
import { layersModelFiles } from '../io/layers-model-files';

export async function initFromSaved(model: tfl.LayersModel, dir: string, freezeLayers: number): Promise<{ copiedLayers: number }> {
  const source = await tfl.loadLayersModel(layersModelFiles(dir));
  let copiedLayers = 0;
  try {
    for (let i = 0; i < model.layers.length && i < source.layers.length; i++) {
      const from = source.layers[i].getWeights();
      const to = model.layers[i].getWeights();
      const same = from.length === to.length && from.every((w, j) => w.shape.join() === to[j].shape.join());
      if (!same) break;
      if (from.length > 0) model.layers[i].setWeights(from);
      copiedLayers++;
    }
  } finally {
    source.dispose();
  }
  if (freezeLayers > copiedLayers) {
    throw new ModelError(`--freeze-layers ${freezeLayers}: only the first ${copiedLayers} layers match ${dir}`);
  }
  for (let i = 0; i < freezeLayers; i++) model.layers[i].trainable = false;
  return { copiedLayers };
}
