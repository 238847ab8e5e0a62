/**
 * Saving and loading models as tfjs LayersModel files (model.json +
 * weights.bin) on the local file system. Pure tfjs has no `file://` handler
 * in Node (tfjs-node adds one); this IOHandler is ours, and `registerFileRouter`
 * makes `tf.loadLayersModel('file://...')` and `model.save('file://...')` use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '../errors';
import { writeFileSynced } from './durable-files';
import { makeDirectory } from './make-directory';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** The two files of a LayersModel: model.json's text and weights.bin's bytes. */
export function layersModelFileContents(artifacts: tf.io.ModelArtifacts): { modelJson: string; weights: Uint8Array } {
  if (artifacts.modelTopology instanceof ArrayBuffer) throw new ModelError('binary model topologies are not supported');
  const weights = new Uint8Array(
    artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer[]),
  );
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_core}`,
    convertedBy: 'gradfleet',
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  return { modelJson: JSON.stringify(modelJson), weights };
}

/** The model's files in memory, as `layersModelFiles` would write them. */
export async function captureLayersModel(model: { save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult> }): Promise<{ modelJson: string; weights: Uint8Array }> {
  let captured: { modelJson: string; weights: Uint8Array } | undefined;
  await model.save({
    save: async (artifacts) => {
      captured = layersModelFileContents(artifacts);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: captured.weights.byteLength } };
    },
  });
  return captured!;
}

/** A tfjs IOHandler that reads and writes `dir/model.json` and `dir/weights.bin`. */
export function layersModelFiles(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { modelJson, weights } = layersModelFileContents(artifacts);
      makeDirectory(dir);
      writeFileSynced(path.join(dir, WEIGHTS_BIN), weights);
      writeFileSynced(path.join(dir, MODEL_JSON), modelJson);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(dir, MODEL_JSON);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new ModelError(`${jsonPath}: cannot read model (${(err as Error).message})`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = tf.io.getWeightSpecs(manifest);
        const buffers = manifest.flatMap((group) =>
          group.paths.map((p) => {
            const file = path.join(dir, p);
            if (!fs.existsSync(file)) throw new ModelError(`${file}: weights file not found`);
            const bytes = fs.readFileSync(file);
            return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          }),
        );
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

const FILE_SCHEME = 'file://';
let routerRegistered = false;

/** Routes `file://DIR` URLs (with or without a trailing model.json) to layersModelFiles. */
export function registerFileRouter(): void {
  if (routerRegistered) return;
  routerRegistered = true;
  const route = (url: string | string[]): tf.io.IOHandler | null => {
    if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) return null;
    let dir = url.slice(FILE_SCHEME.length);
    if (path.basename(dir) === MODEL_JSON) dir = path.dirname(dir);
    return layersModelFiles(dir);
  };
  // tfjs's router type omits the null that its registry expects for "not mine".
  tf.io.registerSaveRouter(route as Parameters<typeof tf.io.registerSaveRouter>[0]);
  tf.io.registerLoadRouter(route as Parameters<typeof tf.io.registerSaveRouter>[0]);
}
