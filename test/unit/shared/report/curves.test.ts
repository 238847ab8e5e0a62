import { strict as assert } from 'node:assert';
import type { EpochLogs } from '../../../../shared/training/callbacks';
import { COLORS, Raster, Rgb } from '../../../../shared/report/raster';
import { curves } from '../../../../shared/report/run-report';

function epochs(validation: boolean): EpochLogs[] {
  return [1, 2, 3].map((epoch) => ({
    epoch,
    loss: 1 / epoch,
    accuracy: 1 - 0.1 / epoch,
    val_loss: validation ? 1.2 / epoch : NaN,
    val_accuracy: validation ? 1 - 0.12 / epoch : NaN,
    seconds: 1,
    samplesPerSecond: 1000,
  }));
}

function pixelsOf(img: Raster, [r, g, b]: Rgb): number {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) if (img.rgba[i] === r && img.rgba[i + 1] === g && img.rgba[i + 2] === b) n++;
  return n;
}

describe('the learning curves of the report', () => {
  it('draw the training curves in blue and the validation curves in orange', () => {
    const img = curves(epochs(true));
    assert.ok(pixelsOf(img, COLORS.blue) > 0);
    assert.ok(pixelsOf(img, COLORS.orange) > 0);
  });

  it('draw no validation curve nor legend entry for a run without a validation set', () => {
    const img = curves(epochs(false));
    assert.ok(pixelsOf(img, COLORS.blue) > 0);
    assert.equal(pixelsOf(img, COLORS.orange), 0);
  });
});
