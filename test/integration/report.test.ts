/**
 * The end-of-run report of a 2-epoch `gradfleet local` run: curves, the
 * confusion matrix and the grid of test predictions as PNG files of the
 * expected sizes, a confusion matrix that accounts for every test image,
 * and a grid that shows the real test digits with their labels.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { loadMnistSample } from '../../shared/data/mnist-sample';
import { CONFUSION_CELL, GRID } from '../../shared/report/run-report';
import { readSummary } from '../../shared/training/run-summary';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

describe('the end-of-run report', function () {
  this.timeout(300_000);
  const runDir = path.join(tmpDir(), 'run');
  const report = (f: string) => path.join(runDir, 'report', f);
  const png = (f: string) => PNG.sync.read(fs.readFileSync(report(f)));

  before(() => {
    const r = runCli(['local', '--workers', '2', '--model', 'mlp', '--epochs', '2', '--backend', 'wasm', '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('has a confusion matrix over the whole test set, agreeing with the summary’s accuracy', () => {
    const confusion = JSON.parse(fs.readFileSync(report('confusion.json'), 'utf8')) as number[][];
    const test = loadMnistSample().test;
    assert.equal(confusion.length, 10);
    assert.equal(confusion.flat().reduce((a, b) => a + b, 0), test.count);
    confusion.forEach((row, t) => assert.equal(row.reduce((a, b) => a + b, 0), test.labels.filter((l) => l === t).length, `class ${t}`));
    const summary = readSummary(runDir);
    const diagonal = confusion.reduce((a, row, i) => a + row[i], 0);
    assert.ok(Math.abs(diagonal / test.count - summary.test_accuracy) < 1e-9);
    const image = png('confusion.png');
    assert.equal(image.width, 40 + 10 * CONFUSION_CELL + 10);
  });

  it('draws the learning curves in train and validation colours', () => {
    const image = png('curves.png');
    assert.deepEqual([image.width, image.height], [800, 320]);
    const has = (rgb: number[]) => {
      for (let i = 0; i < image.data.length; i += 4) if (image.data[i] === rgb[0] && image.data[i + 1] === rgb[1] && image.data[i + 2] === rgb[2]) return true;
      return false;
    };
    assert.ok(has([31, 119, 180]) && has([255, 127, 14]), 'both curves are drawn');
  });

  it('shows the first 20 test digits, pixel for pixel, in a 4x5 grid', () => {
    const image = png('predictions.png');
    const cw = 28 * GRID.scale;
    assert.equal(image.width, GRID.columns * (cw + GRID.gap) + GRID.gap);
    assert.equal(image.height, GRID.rows * (cw + GRID.caption + GRID.gap) + GRID.gap);
    const test = loadMnistSample().test;
    for (const i of [0, 7, 19]) {
      const x0 = GRID.gap + (i % GRID.columns) * (cw + GRID.gap);
      const y0 = GRID.gap + Math.floor(i / GRID.columns) * (cw + GRID.caption + GRID.gap);
      for (const [px, py] of [[14, 14], [10, 20], [5, 5]]) {
        const at = ((y0 + py * GRID.scale + 1) * image.width + x0 + px * GRID.scale + 1) * 4;
        assert.equal(image.data[at], test.images[i * 784 + py * 28 + px], `digit ${i} pixel (${px}, ${py})`);
      }
    }
  });
});
