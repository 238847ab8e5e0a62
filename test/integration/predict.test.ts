/**
 * `gradfleet predict` on pictures of test digits: the same digits as PNG
 * files get the classes `gradfleet evaluate` gives them, and so do the same
 * digits drawn dark on light, or in colour at another size.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateCheckpoint } from '../../coordinator/evaluate-checkpoint';
import { encodePng } from '../../shared/data/image-codec';
import { loadMnistSample } from '../../shared/data/mnist-sample';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

const COUNT = 20;

/** Test digit i as RGBA at `scale` times its size, ink and paper in the given colours. */
function picture(pixels: Uint8Array, i: number, scale: number, ink: number[], paper: number[]): { width: number; height: number; rgba: Uint8Array } {
  const size = 28 * scale;
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = pixels[i * 784 + Math.floor(y / scale) * 28 + Math.floor(x / scale)] / 255;
      for (let c = 0; c < 3; c++) rgba[(y * size + x) * 4 + c] = Math.round(v * ink[c] + (1 - v) * paper[c]);
      rgba[(y * size + x) * 4 + 3] = 255;
    }
  }
  return { width: size, height: size, rgba };
}

describe('gradfleet predict', function () {
  this.timeout(300_000);
  const root = tmpDir();
  const modelDir = path.join(root, 'run', 'model');
  let expected: number[];
  const test = loadMnistSample().test;

  before(async () => {
    const r = runCli(['baseline', '--model', 'mlp', '--epochs', '1', '--backend', 'wasm', '--run-dir', path.join(root, 'run')]);
    assert.equal(r.code, 0, r.stderr);
    const evaluation = await evaluateCheckpoint({ checkpoint: modelDir, dataset: 'mnist-sample', dataDir: root, imageSize: 28, channels: 1, backend: 'wasm' });
    expected = Array.from(evaluation.predictions.slice(0, COUNT));
  });

  function predictPictures(name: string, scale: number, ink: number[], paper: number[]): number[] {
    const files = Array.from({ length: COUNT }, (_, i) => {
      const p = picture(test.images, i, scale, ink, paper);
      const file = path.join(root, `${name}-${i}.png`);
      fs.writeFileSync(file, encodePng(p.width, p.height, p.rgba));
      return file;
    });
    const r = runCli(['predict', '--checkpoint', modelDir, '--backend', 'wasm', '--json', ...files]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.file), files);
    for (const l of lines) assert.ok(Math.abs(l.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4);
    return lines.map((l) => l.class);
  }

  it('gives the test digits, as PNG files, the classes evaluate gives them', () => {
    assert.deepEqual(predictPictures('plain', 1, [255, 255, 255], [0, 0, 0]), expected);
  });

  it('inverts dark-on-light pictures as MNIST expects, with the same classes', () => {
    assert.deepEqual(predictPictures('inverted', 1, [0, 0, 0], [255, 255, 255]), expected);
  });

  it('crops, scales and centres a larger colour picture like MNIST, and mostly agrees', () => {
    const got = predictPictures('colour', 3, [20, 30, 120], [250, 240, 200]);
    const agree = got.filter((c, i) => c === expected[i]).length;
    console.log(`      ${agree}/${COUNT} agree with evaluate after MNIST-style normalisation of 84x84 colour pictures`);
    assert.ok(agree >= COUNT - 2, `${agree}/${COUNT}`);
  });

  it('names a file it cannot read in a one-line error', () => {
    const bad = path.join(root, 'not-an-image.png');
    fs.writeFileSync(bad, 'hello');
    const r = runCli(['predict', '--checkpoint', modelDir, '--backend', 'wasm', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^gradfleet: error: .*not-an-image\.png: cannot decode image/m);
  });

  for (const [what, name, message] of [
    ['a missing file', 'typo.png', 'not found'],
    ['a directory', 'folder.png', 'a directory, not a file'],
  ] as const) {
    it(`names ${what} in a one-line error, as bad input (exit code 2)`, () => {
      const file = path.join(root, name);
      if (name === 'folder.png') fs.mkdirSync(file, { recursive: true });
      const r = runCli(['predict', '--checkpoint', modelDir, '--backend', 'wasm', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').at(-1), `gradfleet: error: image ${file}: ${message}`);
    });
  }
});
