/**
 * Any picture of a digit to what an MNIST-trained model expects: grey, the
 * digit light on a dark background, and, as MNIST itself was made (LeCun et
 * al.), the digit scaled to fit a 20x20 box inside 28x28 (kept in
 * proportion for other input sizes) and centred by its centre of mass.
 * A picture already at the model's input size is only inverted when its
 * background is light: it is taken to be normalised already.
 */
import type { ImageShape } from './dataset';
import { RgbaImage, resizeToChannels } from './image-codec';

/** Pixels in 0..255, height*width*channels, ready to be scaled to 0..1 like the training data. */
export function toModelInput(img: RgbaImage, shape: ImageShape): Uint8Array {
  if (shape.channels === 3) return resizeToChannels(img, shape.width, shape.height, 3);
  let grey = resizeToChannels(img, img.width, img.height, 1);
  if (borderMean(grey, img.width, img.height) > 127) grey = grey.map((v) => 255 - v);
  if (img.width === shape.width && img.height === shape.height) return grey;
  return normaliseDigit(grey, img.width, img.height, shape);
}

function borderMean(grey: Uint8Array, w: number, h: number): number {
  let sum = 0;
  let n = 0;
  for (let x = 0; x < w; x++) {
    sum += grey[x] + grey[(h - 1) * w + x];
    n += 2;
  }
  for (let y = 0; y < h; y++) {
    sum += grey[y * w] + grey[y * w + w - 1];
    n += 2;
  }
  return sum / n;
}

/** Area-averaging resize of a grey image: every source pixel counts, so thin strokes survive shrinking. */
function resizeArea(src: Uint8Array, w: number, h: number, tw: number, th: number): Uint8Array {
  const out = new Uint8Array(tw * th);
  const sx = w / tw;
  const sy = h / th;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      let sum = 0;
      let weight = 0;
      for (let yy = Math.floor(y * sy); yy < Math.min(h, Math.ceil((y + 1) * sy)); yy++) {
        const wy = Math.min(yy + 1, (y + 1) * sy) - Math.max(yy, y * sy);
        for (let xx = Math.floor(x * sx); xx < Math.min(w, Math.ceil((x + 1) * sx)); xx++) {
          const wx = Math.min(xx + 1, (x + 1) * sx) - Math.max(xx, x * sx);
          sum += src[yy * w + xx] * wx * wy;
          weight += wx * wy;
        }
      }
      out[y * tw + x] = Math.round(sum / weight);
    }
  }
  return out;
}

function normaliseDigit(raw: Uint8Array, w: number, h: number, shape: ImageShape): Uint8Array {
  // Paper is rarely black and ink rarely white: stretch so that the background is 0 and the ink 255.
  const paper = borderMean(raw, w, h);
  const brightest = raw.reduce((a, b) => Math.max(a, b), 0);
  const grey = brightest > paper ? raw.map((v) => Math.round((Math.max(0, v - paper) * 255) / (brightest - paper))) : raw;
  const max = grey.reduce((a, b) => Math.max(a, b), 0);
  const ink = Math.max(1, max * 0.1);
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (grey[y * w + x] < ink) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) [x0, y0, x1, y1] = [0, 0, w - 1, h - 1];
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const box = Math.round((Math.min(shape.width, shape.height) * 20) / 28);
  const scale = box / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  const crop = new Uint8Array(bw * bh);
  for (let y = 0; y < bh; y++) crop.set(grey.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + bw), y * bw);
  const digit = resizeArea(crop, bw, bh, tw, th);
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = digit[y * tw + x];
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  }
  const [mx, my] = mass > 0 ? [cx / mass, cy / mass] : [(tw - 1) / 2, (th - 1) / 2];
  const clamp = (v: number, hi: number) => Math.min(Math.max(0, v), hi);
  // The centre of mass lands on pixel (14, 14) of 28x28, as in the MNIST preprocessing.
  const left = clamp(Math.round(shape.width / 2 - mx), shape.width - tw);
  const top = clamp(Math.round(shape.height / 2 - my), shape.height - th);
  const out = new Uint8Array(shape.width * shape.height);
  for (let y = 0; y < th; y++) out.set(digit.subarray(y * tw, (y + 1) * tw), (top + y) * shape.width + left);
  return out;
}
