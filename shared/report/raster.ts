/** A small RGBA raster for report images: rectangles, lines, 5x7 text, grey images; PNG via pngjs. */
import { encodePng } from '../data/image-codec';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixel } from './font5x7';

export type Rgb = readonly [number, number, number];

export const COLORS = {
  white: [255, 255, 255] as Rgb,
  black: [0, 0, 0] as Rgb,
  grey: [150, 150, 150] as Rgb,
  light: [225, 225, 225] as Rgb,
  blue: [31, 119, 180] as Rgb,
  orange: [255, 127, 14] as Rgb,
  green: [44, 160, 44] as Rgb,
  red: [214, 39, 40] as Rgb,
};

export class Raster {
  readonly rgba: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = COLORS.white,
  ) {
    this.rgba = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  setPixel(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    this.rgba.set([c[0], c[1], c[2], 255], (yi * this.width + xi) * 4);
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let yy = Math.max(0, Math.round(y)); yy < Math.min(this.height, Math.round(y + h)); yy++) {
      for (let xx = Math.max(0, Math.round(x)); xx < Math.min(this.width, Math.round(x + w)); xx++) this.setPixel(xx, yy, c);
    }
  }

  /** A line `thickness` pixels wide (square pen), stepped at sub-pixel spacing so it has no gaps. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(2 * Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (thickness - 1) / 2;
    for (let i = 0; i <= steps; i++) {
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      this.fillRect(x - r, y - r, thickness, thickness, c);
    }
  }

  /** Text with its top-left corner at (x, y), each font pixel `scale` pixels wide. */
  text(x: number, y: number, s: string, c: Rgb, scale = 1): void {
    [...s].forEach((ch, i) => {
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (glyphPixel(ch, gx, gy)) this.fillRect(x + (i * (GLYPH_WIDTH + 1) + gx) * scale, y + gy * scale, scale, scale, c);
        }
      }
    });
  }

  static textWidth(s: string, scale = 1): number {
    return s.length * (GLYPH_WIDTH + 1) * scale - scale;
  }

  /** A grey image (0..255, row-major) drawn with each pixel as a `scale` x `scale` block. */
  grey(x: number, y: number, pixels: ArrayLike<number>, w: number, h: number, scale: number): void {
    for (let py = 0; py < h; py++) {
      for (let px = 0; px < w; px++) {
        const v = pixels[py * w + px];
        this.fillRect(x + px * scale, y + py * scale, scale, scale, [v, v, v]);
      }
    }
  }

  png(): Buffer {
    return encodePng(this.width, this.height, this.rgba);
  }
}
