import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { layersModelFiles, registerFileRouter } from '../../../../shared/io/layers-model-files';
import { buildPreset } from '../../../../shared/models/presets';
import { maxAbsDiff, useBackend } from '../../../helpers/backends';
import { tmpDir } from '../../../helpers/tmp';

describe('models saved as tfjs LayersModel files', () => {
  before(() => useBackend('wasm'));

  it('writes model.json and weights.bin that tf.loadLayersModel("file://...") reads back to the same predictions', async () => {
    const model = buildPreset('keras-cnn', { shape: { height: 28, width: 28, channels: 1 }, numClasses: 10, seed: 5 });
    const dir = path.join(tmpDir(), 'model');
    await model.save(layersModelFiles(dir));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.deepEqual(json.weightsManifest[0].paths, ['./weights.bin']);

    registerFileRouter();
    const loaded = await tfl.loadLayersModel(`file://${dir}/model.json`);
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 9);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(a, b) < 1e-6);
    tf.dispose(x);
  });

  it('names the missing weights file', async () => {
    const model = buildPreset('mlp', { shape: { height: 4, width: 4, channels: 1 }, numClasses: 3, seed: 5 });
    const dir = path.join(tmpDir(), 'model');
    await model.save(layersModelFiles(dir));
    fs.rmSync(path.join(dir, 'weights.bin'));
    await assert.rejects(tfl.loadLayersModel(layersModelFiles(dir)), /weights\.bin: weights file not found/);
  });
});
