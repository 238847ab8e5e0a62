/**
 * The model presets of the classic TensorFlow MNIST tutorials, built with
 * tfjs-layers and adapted to the dataset's image shape and class count.
 * Initialisers are seeded so that one seed gives one initial model anywhere.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { deriveSeed, SeedPurpose } from '../random';
import type { ImageShape } from '../data/dataset';

export const PRESET_NAMES = ['mlp', 'mlp-l2', 'cnn', 'keras-cnn', 'lenet5'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface PresetInput {
  shape: ImageShape;
  numClasses: number;
  seed: number;
  /** Dropout rate for presets that have dropout (`cnn`); 0 removes the layer. */
  dropout?: number;
}

/** Training defaults a preset comes with; flags override them. */
export interface PresetDefaults {
  l2: number;
  dropout: number;
}

export const PRESET_DEFAULTS: Record<PresetName, PresetDefaults> = {
  mlp: { l2: 0, dropout: 0 },
  'mlp-l2': { l2: 1e-4, dropout: 0 },
  cnn: { l2: 0, dropout: 0.5 },
  'keras-cnn': { l2: 0, dropout: 0 },
  lenet5: { l2: 0, dropout: 0 },
};

type LayerSpec = (init: () => { kernelInitializer: ReturnType<typeof tfl.initializers.glorotUniform> }) => tfl.layers.Layer[];

const conv = (filters: number, kernelSize: number, padding: 'same' | 'valid', activation: 'relu' | 'tanh') =>
  ({ filters, kernelSize, padding, activation }) as const;

const PRESET_LAYERS: Record<PresetName, (input: PresetInput) => LayerSpec> = {
  // 784-300-100-10, the multilayer perceptron of LeCun et al. 1998.
  mlp: ({ numClasses }) => (init) => [
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 300, activation: 'relu', ...init() }),
    tfl.layers.dense({ units: 100, activation: 'relu', ...init() }),
    tfl.layers.dense({ units: numClasses, activation: 'softmax', ...init() }),
  ],
  // One hidden layer of 500 units; the L2 penalty comes from PRESET_DEFAULTS.
  'mlp-l2': ({ numClasses }) => (init) => [
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 500, activation: 'relu', ...init() }),
    tfl.layers.dense({ units: numClasses, activation: 'softmax', ...init() }),
  ],
  // "Deep MNIST for experts": two 5x5 convs, fc1024, dropout.
  cnn: ({ numClasses, dropout = 0.5, seed }) => (init) => [
    tfl.layers.conv2d({ ...conv(32, 5, 'same', 'relu'), ...init() }),
    tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
    tfl.layers.conv2d({ ...conv(64, 5, 'same', 'relu'), ...init() }),
    tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 1024, activation: 'relu', ...init() }),
    ...(dropout > 0 ? [tfl.layers.dropout({ rate: dropout, seed: deriveSeed(seed, SeedPurpose.dropout) })] : []),
    tfl.layers.dense({ units: numClasses, activation: 'softmax', ...init() }),
  ],
  // The small convnet of the Keras MNIST example.
  'keras-cnn': ({ numClasses }) => (init) => [
    tfl.layers.conv2d({ ...conv(32, 3, 'valid', 'relu'), ...init() }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ ...conv(64, 3, 'valid', 'relu'), ...init() }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 64, activation: 'relu', ...init() }),
    tfl.layers.dense({ units: numClasses, activation: 'softmax', ...init() }),
  ],
  // LeNet-5 (LeCun et al. 1998) with average pooling; 'same' first conv for 28x28 input.
  lenet5: ({ numClasses }) => (init) => [
    tfl.layers.conv2d({ ...conv(6, 5, 'same', 'tanh'), ...init() }),
    tfl.layers.averagePooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ ...conv(16, 5, 'valid', 'tanh'), ...init() }),
    tfl.layers.averagePooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ ...conv(120, 5, 'valid', 'tanh'), ...init() }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 84, activation: 'tanh', ...init() }),
    tfl.layers.dense({ units: numClasses, activation: 'softmax', ...init() }),
  ],
};

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

export function buildPreset(name: PresetName, input: PresetInput): tfl.LayersModel {
  let layerIndex = 0;
  const init = () => ({
    kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(input.seed, SeedPurpose.initialisation, layerIndex++) }),
  });
  const model = tfl.sequential({ name });
  const { height, width, channels } = input.shape;
  model.add(tfl.layers.inputLayer({ inputShape: [height, width, channels] }));
  for (const layer of PRESET_LAYERS[name](input)(init)) model.add(layer);
  return model;
}
