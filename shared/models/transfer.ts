/**
 * Transfer learning: start from another run's saved weights, layer by layer
 * while the shapes agree (a new head for a new class count is fine), and
 * optionally keep the first layers fixed.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../errors';
import { layersModelFiles } from '../io/layers-model-files';

/** Layers as Keras counts them: without the InputLayer that tfjs lists first. */
function realLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

export async function initFromSaved(model: tfl.LayersModel, dir: string, freezeLayers: number): Promise<{ copiedLayers: number }> {
  const source = await tfl.loadLayersModel(layersModelFiles(dir));
  const to = realLayers(model);
  const from = realLayers(source);
  let copiedLayers = 0;
  let copiedWeights = 0;
  try {
    for (let i = 0; i < to.length && i < from.length; i++) {
      const a = from[i].getWeights();
      const b = to[i].getWeights();
      const same = a.length === b.length && a.every((w, j) => w.shape.join() === b[j].shape.join());
      if (!same) break;
      if (a.length > 0) to[i].setWeights(a);
      copiedLayers++;
      copiedWeights += a.length;
    }
  } finally {
    source.dispose();
  }
  // Weightless layers (Flatten) match anything: a run that copied only those would train from scratch, unsaid.
  if (copiedWeights === 0) throw new ModelError(`--init-from ${dir}: its first layers with weights have other shapes than this model's, so nothing would be copied`);
  if (freezeLayers > copiedLayers) {
    throw new ModelError(`--freeze-layers ${freezeLayers}: only the first ${copiedLayers} layers match ${dir}`);
  }
  for (let i = 0; i < freezeLayers; i++) to[i].trainable = false;
  return { copiedLayers };
}
