/**
 * The end-of-run report in RUN_DIR/report/: learning curves, the confusion
 * matrix, and a grid of test images with predicted and true labels (as the
 * classic Keras MNIST tutorial shows them), as PNG files, plus the confusion
 * matrix as JSON for scripts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EpochLogs } from '../training/callbacks';
import { COLORS, Raster, Rgb } from './raster';
import { makeDirectory } from '../io/make-directory';

export interface ReportInput {
  history: EpochLogs[];
  confusion: number[][];
  /** The first test images (grey, height x width) with their labels and predictions. */
  samples: { pixels: Uint8Array; label: number; predicted: number }[];
  imageSize: { height: number; width: number };
}

export const GRID = { columns: 5, rows: 4, scale: 3, caption: 14, gap: 8 };

export function writeRunReport(dir: string, r: ReportInput): string[] {
  makeDirectory(dir);
  const files: [string, Buffer | string][] = [
    ['curves.png', curves(r.history).png()],
    ['confusion.png', confusionImage(r.confusion).png()],
    ['predictions.png', predictionGrid(r).png()],
    ['confusion.json', `${JSON.stringify(r.confusion)}\n`],
  ];
  return files.map(([name, data]) => {
    fs.writeFileSync(path.join(dir, name), data);
    return path.join(dir, name);
  });
}

function format(v: number): string {
  return Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** One panel: a metric's train and validation curves against the epoch. */
function panel(img: Raster, x0: number, y0: number, w: number, h: number, title: string, allSeries: { values: number[]; color: Rgb; name: string }[]): void {
  // A run without a validation set has no validation values: no curve, and no legend entry for one.
  const series = allSeries.filter((s) => s.values.some(Number.isFinite));
  img.text(x0, y0, title, COLORS.black, 2);
  const top = y0 + 24;
  const left = x0 + 48;
  const plotW = w - 60;
  const plotH = h - 60;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = all.length > 0 ? Math.min(...all) : 0;
  const hi = all.length > 0 ? Math.max(...all) : 1;
  const span = hi > lo ? hi - lo : 1;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const px = (i: number) => left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const py = (v: number) => top + plotH - ((v - lo) / span) * plotH;
  img.line(left, top, left, top + plotH, COLORS.black);
  img.line(left, top + plotH, left + plotW, top + plotH, COLORS.black);
  for (const v of [lo, hi]) {
    img.line(left - 4, py(v), left, py(v), COLORS.black);
    img.text(x0, py(v) - 3, format(v), COLORS.black);
  }
  for (let i = 0; i < n; i++) {
    img.line(px(i), top + plotH, px(i), top + plotH + 4, COLORS.black);
    img.text(px(i) - Raster.textWidth(String(i + 1)) / 2, top + plotH + 8, String(i + 1), COLORS.black);
  }
  img.text(left + plotW / 2 - Raster.textWidth('EPOCH') / 2, top + plotH + 20, 'EPOCH', COLORS.grey);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => [px(i), py(v)] as const).filter(([, y]) => Number.isFinite(y));
    for (let i = 1; i < pts.length; i++) img.line(pts[i - 1][0], pts[i - 1][1], pts[i][0], pts[i][1], s.color, 2);
    for (const [x, y] of pts) img.fillRect(x - 2, y - 2, 5, 5, s.color);
    img.fillRect(left + plotW - 60, top + 4 + k * 12, 10, 7, s.color);
    img.text(left + plotW - 46, top + 4 + k * 12, s.name, COLORS.black);
  });
}

export function curves(history: EpochLogs[]): Raster {
  const img = new Raster(800, 320);
  const pick = (key: string) => history.map((e) => e[key]);
  panel(img, 10, 10, 390, 300, 'LOSS', [
    { values: pick('loss'), color: COLORS.blue, name: 'TRAIN' },
    { values: pick('val_loss'), color: COLORS.orange, name: 'VAL' },
  ]);
  panel(img, 410, 10, 390, 300, 'ACCURACY', [
    { values: pick('accuracy'), color: COLORS.blue, name: 'TRAIN' },
    { values: pick('val_accuracy'), color: COLORS.orange, name: 'VAL' },
  ]);
  return img;
}

export const CONFUSION_CELL = 36;

export function confusionImage(m: number[][]): Raster {
  const n = m.length;
  const margin = 40;
  const img = new Raster(margin + n * CONFUSION_CELL + 10, margin + n * CONFUSION_CELL + 30);
  img.text(margin, 8, 'ROWS TRUE, COLUMNS PREDICTED', COLORS.black);
  const max = Math.max(1, ...m.flat());
  m.forEach((row, t) => {
    img.text(margin - 14, margin + t * CONFUSION_CELL + CONFUSION_CELL / 2 - 3, String(t), COLORS.black);
    row.forEach((count, p) => {
      const shade = Math.round(255 - (200 * Math.sqrt(count)) / Math.sqrt(max));
      const x = margin + p * CONFUSION_CELL;
      const y = margin + t * CONFUSION_CELL;
      img.fillRect(x, y, CONFUSION_CELL - 1, CONFUSION_CELL - 1, [shade, shade, 255]);
      const label = String(count);
      img.text(x + (CONFUSION_CELL - Raster.textWidth(label)) / 2, y + CONFUSION_CELL / 2 - 3, label, shade < 120 ? COLORS.white : COLORS.black);
    });
  });
  for (let p = 0; p < n; p++) img.text(margin + p * CONFUSION_CELL + CONFUSION_CELL / 2 - 2, margin - 12, String(p), COLORS.black);
  return img;
}

export function predictionGrid(r: ReportInput): Raster {
  const { columns, rows, scale, caption, gap } = GRID;
  const cw = r.imageSize.width * scale;
  const ch = r.imageSize.height * scale;
  const img = new Raster(columns * (cw + gap) + gap, rows * (ch + caption + gap) + gap);
  r.samples.slice(0, columns * rows).forEach((s, i) => {
    const x = gap + (i % columns) * (cw + gap);
    const y = gap + Math.floor(i / columns) * (ch + caption + gap);
    img.grey(x, y, s.pixels, r.imageSize.width, r.imageSize.height, scale);
    img.text(x, y + ch + 4, `P:${s.predicted} T:${s.label}`, s.predicted === s.label ? COLORS.green : COLORS.red);
  });
  return img;
}
