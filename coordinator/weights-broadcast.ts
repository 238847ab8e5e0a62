/**
 * The model's weights as they go out to workers: read from the model and
 * encoded once per version, then the same chunks are written to every
 * worker that needs them.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { encodeTensorSet, TensorSetHeader, TensorSpec, chunksOf } from '../shared/wire/tensor-codec';
import { readWeights } from '../shared/training/weights';

export class WeightsBroadcast {
  private version = 0;
  private encoded: { version: number; header: TensorSetHeader; chunks: { offset: number; data: Uint8Array }[] } | undefined;
  readonly specs: TensorSpec[];

  constructor(private readonly model: LayersModel) {
    this.specs = model.weights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
  }

  get currentVersion(): number {
    return this.version;
  }

  /** The weights changed (an update was applied, or a checkpoint restored). */
  bump(): number {
    this.version++;
    this.encoded = undefined;
    return this.version;
  }

  current(): { version: number; header: TensorSetHeader; chunks: { offset: number; data: Uint8Array }[] } {
    if (this.encoded === undefined || this.encoded.version !== this.version) {
      const { header, parts } = encodeTensorSet(readWeights(this.model), this.specs, 'float32');
      this.encoded = { version: this.version, header, chunks: [...chunksOf(parts)] };
    }
    return this.encoded;
  }
}
