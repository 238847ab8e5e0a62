/** Builds the model a run trains: a preset, or a user's Keras-style model.json topology. */
import * as fs from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, ModelError } from '../errors';
import type { ImageShape } from '../data/dataset';
import { buildPreset, isPresetName, PRESET_NAMES } from './presets';

export interface ModelRequest {
  /** A preset name or a path to a model.json file. */
  model: string;
  shape: ImageShape;
  numClasses: number;
  seed: number;
  dropout?: number;
}

export function validateModelName(model: string): void {
  if (isPresetName(model) || model.endsWith('.json')) return;
  throw new ConfigError(`unknown model '${model}' (expected one of: ${PRESET_NAMES.join(', ')}, or a path to a model.json)`);
}

async function modelFromTopologyFile(file: string): Promise<tfl.LayersModel> {
  if (!fs.existsSync(file)) throw new ModelError(`${file}: model file not found`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  // Accept a tfjs model.json ({modelTopology: ...}) or a bare Keras topology ({class_name, config}).
  const obj = json as Record<string, unknown>;
  const topology = (obj !== null && typeof obj === 'object' && 'modelTopology' in obj ? obj.modelTopology : obj) as Record<string, unknown>;
  const inner = (topology?.model_config ?? topology) as Record<string, unknown> | null;
  if (inner === null || typeof inner !== 'object' || typeof inner.class_name !== 'string') {
    throw new ModelError(`${file}: no Keras model topology found (expected 'modelTopology' or 'class_name' at the top level)`);
  }
  try {
    return await tfl.models.modelFromJSON({ modelTopology: inner as never });
  } catch (err) {
    throw new ModelError(`${file}: invalid model topology (${(err as Error).message.split('\n')[0]})`);
  }
}

/** Checks that a model accepts the dataset's images and predicts its classes. */
export function checkModelFitsDataset(model: tfl.LayersModel, shape: ImageShape, numClasses: number, label: string): void {
  const input = model.inputs[0]?.shape;
  const expected = [shape.height, shape.width, shape.channels];
  const inputOk =
    input !== undefined &&
    (input.length === 4
      ? input.slice(1).every((d, i) => d === null || d === expected[i])
      : input.length === 2 && (input[1] === null || input[1] === expected.reduce((a, b) => a * b)));
  if (!inputOk) {
    throw new ModelError(`${label}: input shape [${input?.slice(1).join(',')}] does not take ${expected.join('x')} images`);
  }
  const output = model.outputs[0]?.shape;
  if (output === undefined || output.length !== 2 || output[1] !== numClasses) {
    throw new ModelError(`${label}: output shape [${output?.slice(1).join(',')}] does not predict ${numClasses} classes`);
  }
}

export async function buildModel(request: ModelRequest): Promise<tfl.LayersModel> {
  validateModelName(request.model);
  const model = isPresetName(request.model)
    ? buildPreset(request.model, request)
    : await modelFromTopologyFile(request.model);
  checkModelFitsDataset(model, request.shape, request.numClasses, request.model);
  return model;
}
