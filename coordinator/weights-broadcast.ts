/**
 * The model's weights as they go out to workers: read and encoded once per
 * version, then the same chunks go to every worker that needs them.
 *
 * Uncompressed runs send the weights themselves, as float32. Compressed runs
 * (--compress fp16|bf16) send a worker that holds the previous version only
 * the change, in 16 bits, with error feedback: the coordinator keeps the
 * replica that workers hold and sends `quantise(weights - replica)`, adding
 * the same dequantised values to its replica, so the rounding error never
 * accumulates. Every worker holds the identical replica; a worker that
 * joins or falls behind gets the replica in full, as float32.
 *
 * Runs that keep a weight EMA validate with it: at the end of an epoch the
 * averaged weights go out once, in full float32, marked as evaluation
 * weights, and workers keep them beside the weights they train with.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { addInto, readWeights } from '../shared/training/weights';
import { chunksOf, encodeTensorSet, TensorSetAssembler, TensorSetHeader, TensorSpec, DenseDType } from '../shared/wire/tensor-codec';

export interface EncodedWeights {
  version: number;
  delta: boolean;
  header: TensorSetHeader;
  chunks: { offset: number; data: Uint8Array }[];
}

function encode(version: number, values: Float32Array[], specs: TensorSpec[], dtype: DenseDType, delta: boolean): EncodedWeights {
  const { header, parts } = encodeTensorSet(values, specs, dtype);
  return { version, delta, header, chunks: [...chunksOf(parts)] };
}

export class WeightsBroadcast {
  private version = 0;
  private full: EncodedWeights | undefined;
  private delta: EncodedWeights | undefined;
  private evaluation: EncodedWeights | undefined;
  /** What workers hold (compressed runs only; otherwise the weights themselves). */
  private replica: Float32Array[] | undefined;
  readonly specs: TensorSpec[];

  constructor(
    private readonly model: LayersModel,
    private readonly dtype: DenseDType = 'float32',
  ) {
    this.specs = model.weights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
    if (dtype !== 'float32') this.replica = readWeights(model);
  }

  /** The weights changed (an update was applied, or a checkpoint restored). */
  bump(): number {
    this.version++;
    this.full = undefined;
    this.evaluation = undefined;
    if (this.replica !== undefined) this.delta = this.advanceReplica();
    return this.version;
  }

  /** The weights to validate with from now until the next bump (the EMA of the weights). */
  setEvaluationWeights(values: Float32Array[]): void {
    this.evaluation = encode(this.version, values, this.specs, 'float32', false);
  }

  /** The evaluation weights for the current version, if they were set since the last bump. */
  evaluationWeights(): EncodedWeights | undefined {
    return this.evaluation;
  }

  /**
   * What to send a worker that holds `held` (-1: nothing yet). Uncompressed
   * weights are read from the model on the first call after a bump: the
   * step scheduler sends every worker the weights as a step starts, before
   * any of its gradients (and so any early update of the model) can come in.
   */
  forWorker(held: number): EncodedWeights {
    if (this.delta !== undefined && held === this.version - 1) return this.delta;
    this.full ??= encode(this.version, this.replica ?? readWeights(this.model), this.specs, 'float32', false);
    return this.full;
  }

  private advanceReplica(): EncodedWeights {
    const replica = this.replica!;
    const current = readWeights(this.model);
    const change = current.map((w, i) => {
      const d = new Float32Array(w.length);
      for (let j = 0; j < w.length; j++) d[j] = w[j] - replica[i][j];
      return d;
    });
    const encoded = encode(this.version, change, this.specs, this.dtype, true);
    // Apply exactly what the workers will decode, so replica and workers agree bit for bit.
    addInto(replica, decode(encoded, this.specs));
    return encoded;
  }
}

export function decode(e: EncodedWeights, specs: TensorSpec[]): Float32Array[] {
  const a = new TensorSetAssembler(e.header, specs, Number.MAX_SAFE_INTEGER);
  for (const c of e.chunks) a.add(c.offset, c.data);
  return a.float32Values();
}
