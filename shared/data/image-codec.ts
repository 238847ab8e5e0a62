/** Decoding PNG/JPEG files to pixels and resizing them: pngjs and jpeg-js do the formats. */
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataFormatError } from '../errors';
import { readNamedFile } from '../io/named-file';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes. */
  rgba: Uint8Array;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export function decodeImageFile(file: string): RgbaImage {
  const ext = path.extname(file).toLowerCase();
  if (!IMAGE_EXTENSIONS.includes(ext)) throw new DataFormatError(`${file}: unsupported image type '${ext}' (expected ${IMAGE_EXTENSIONS.join(', ')})`);
  const bytes = readNamedFile('image', file);
  try {
    if (ext === '.png') {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (err) {
    throw new DataFormatError(`${file}: cannot decode image (${(err as Error).message})`);
  }
}

export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}

/**
 * Bilinear resize to width x height with `channels` = 1 (luma, ITU-R BT.601
 * weights) or 3 (RGB). Alpha is composited onto white, as image viewers show it.
 */
export function resizeToChannels(img: RgbaImage, width: number, height: number, channels: 1 | 3): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  const sx = img.width / width;
  const sy = img.height / height;
  const pixel = new Float64Array(3);
  for (let y = 0; y < height; y++) {
    const fy = Math.min(img.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(img.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(img.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(img.width - 1, x0 + 1);
      const wx = fx - x0;
      pixel.fill(0);
      const corners: [number, number, number][] = [
        [x0, y0, (1 - wx) * (1 - wy)],
        [x1, y0, wx * (1 - wy)],
        [x0, y1, (1 - wx) * wy],
        [x1, y1, wx * wy],
      ];
      for (const [cx, cy, weight] of corners) {
        const i = (cy * img.width + cx) * 4;
        const alpha = img.rgba[i + 3] / 255;
        for (let c = 0; c < 3; c++) pixel[c] += weight * (img.rgba[i + c] * alpha + 255 * (1 - alpha));
      }
      const o = (y * width + x) * channels;
      if (channels === 1) out[o] = Math.round(0.299 * pixel[0] + 0.587 * pixel[1] + 0.114 * pixel[2]);
      else for (let c = 0; c < 3; c++) out[o + c] = Math.round(pixel[c]);
    }
  }
  return out;
}
