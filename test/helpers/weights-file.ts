import * as fs from 'node:fs';
import * as path from 'node:path';

/** All weights of a saved LayersModel, concatenated (float32 as written in weights.bin). */
export function savedWeights(modelDir: string): Float32Array {
  const bytes = fs.readFileSync(path.join(modelDir, 'weights.bin'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
