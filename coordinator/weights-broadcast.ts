/**
 * The model's weights as they go out to workers: each message encoded once,
 * then the same chunks go to every worker that needs them.
 *
 * A version can go out in parts. While a step's last gradients are still
 * being computed, the coordinator already updates the tensors whose
 * gradients are complete (StepWork.applyEarly); `early` turns each such
 * update into a part of the next version and workers get it at once, so
 * that when the step ends only `rest`, the tensors updated last, is left to
 * send. A worker writes a version into its model once it holds all of it.
 *
 * Uncompressed runs send the weights themselves, as float32. Compressed runs
 * (--compress fp16|bf16|topk) send a worker that holds the previous version
 * only the change, in 16 bits, with error feedback: the coordinator keeps
 * the replica that workers hold and sends `quantise(weights - replica)`,
 * adding the same dequantised values to its replica, so the rounding error
 * never accumulates. Every worker holds the identical replica. A worker
 * that joins or falls behind gets the whole version in float32: the
 * weights, or the replica.
 *
 * Runs that keep a weight EMA validate with it: at the end of an epoch the
 * averaged weights go out once, in full float32, marked as evaluation
 * weights, and workers keep them beside the weights they train with.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { HalfDType, quantisedChange } from '../shared/wire/half-precision';
import { chunksOf, encodeTensorSet, TensorSetHeader, TensorSpec, DenseDType } from '../shared/wire/tensor-codec';

/** Weights travel as float32, or in compressed runs as 16-bit changes. */
export type WeightsDType = 'float32' | HalfDType;

export interface EncodedWeights {
  version: number;
  delta: boolean;
  /** Positions in the model's weights of the tensors carried, increasing; all of them when absent. */
  tensors?: number[];
  header: TensorSetHeader;
  chunks: { offset: number; data: Uint8Array }[];
}

interface NextVersion {
  parts: EncodedWeights[];
  values: (Float32Array | undefined)[];
}

export class WeightsBroadcast {
  private version = 0;
  /** Each tensor of `version` as workers hold it: the weights, or in compressed runs the replica. */
  private held: Float32Array[];
  private full: EncodedWeights | undefined;
  /** For a worker that holds version - 1 and every early part of `version`: the tensors those parts left out. */
  private rest: EncodedWeights | undefined;
  /** How many early parts `rest` follows. */
  private restFollows = 0;
  /** Version + 1 as a step builds it: the parts sent so far and the tensors they hold. */
  private next: NextVersion;
  /** The version made by the last bump, until the first worker needs it: its early parts' tensors, the rest still in the model. */
  private unread: NextVersion | undefined;
  private evaluation: EncodedWeights | undefined;
  /** Where each trainable weight sits among the model's weights. */
  private readonly trainablePositions: number[];
  readonly specs: TensorSpec[];

  constructor(
    private readonly model: LayersModel,
    private readonly dtype: WeightsDType = 'float32',
  ) {
    this.specs = model.weights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
    this.trainablePositions = model.trainableWeights.map((t) => model.weights.indexOf(t));
    this.held = model.weights.map((_, i) => this.read(i));
    this.next = { parts: [], values: [] };
  }

  /**
   * The trainable weights at `trainable` (their positions among the model's
   * trainable weights) were updated for the next version while the step
   * still runs; workers that hold the current version get them now
   * (earlyParts).
   */
  early(trainable: number[]): void {
    if (this.unread !== undefined) throw new Error('a step updated weights before its own weights went out');
    const positions = trainable.map((t) => this.trainablePositions[t]).sort((a, b) => a - b);
    this.next.parts.push(this.advance(positions, this.next.values, this.version + 1));
  }

  /** The early parts of the next version, for a worker that holds `held`; none unless it holds the current version. */
  earlyParts(held: number): readonly EncodedWeights[] {
    return held === this.version ? this.next.parts : [];
  }

  /**
   * The weights changed (a step's update was applied, or a checkpoint
   * restored). The tensors not sent early are read from the model when the
   * first worker needs them: the step scheduler sends every worker the
   * weights as a step starts, so that reading counts in the step's time,
   * and it comes before any of that step's gradients (and so any update).
   */
  bump(): number {
    this.restFollows = this.next.parts.length;
    this.unread = this.next;
    this.next = { parts: [], values: [] };
    this.version++;
    this.rest = undefined;
    this.full = undefined;
    this.evaluation = undefined;
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

  /** What to send a worker that holds version `held` (-1: nothing yet) and `earlyPartsHeld` early parts of the next. */
  forWorker(held: number, earlyPartsHeld: number): EncodedWeights {
    this.readRest();
    if (held === this.version - 1 && earlyPartsHeld === this.restFollows && this.rest !== undefined) return this.rest;
    this.full ??= encode(this.version, this.held, this.specs, 'float32', false);
    return this.full;
  }

  /** Completes the version made by the last bump with the tensors its early parts left out, and makes them `rest`. */
  private readRest(): void {
    const made = this.unread;
    if (made === undefined) return;
    const left = this.specs.flatMap((_, i) => (made.values[i] === undefined ? [i] : []));
    if (left.length === 0) throw new RangeError('a version must leave at least one tensor to its last part');
    this.rest = this.advance(left, made.values, this.version);
    this.held = made.values as Float32Array[];
    this.unread = undefined;
  }

  /**
   * Takes the tensors at `positions` from `held` to their values in the
   * model, into `into`; returns the message (part of `version`) that does
   * the same on a worker.
   */
  private advance(positions: number[], into: (Float32Array | undefined)[], version: number): EncodedWeights {
    const now = positions.map((i) => this.read(i));
    const specs = positions.map((i) => this.specs[i]);
    const tensors = positions.length === this.specs.length ? undefined : positions;
    const dtype = this.dtype;
    if (dtype === 'float32') {
      positions.forEach((i, j) => (into[i] = now[j]));
      return encode(version, now, specs, 'float32', false, tensors);
    }
    // The replica moves by exactly what the workers will decode, so the two agree bit for bit.
    const changes = positions.map((i, j) => quantisedChange(now[j], this.held[i], dtype));
    positions.forEach((i, j) => (into[i] = changes[j].next));
    const parts = changes.map((c) => new Uint8Array(c.bits.buffer));
    const header = { tensors: specs, dtype, totalBytes: parts.reduce((n, p) => n + p.byteLength, 0) };
    return { version, delta: true, tensors, header, chunks: [...chunksOf(parts)] };
  }

  /** The tensor's values as the backend hands them out: a copy on wasm, the tensor's own array on cpu; the broadcast only reads them, and a variable's update replaces its array rather than writing into it. */
  private read(position: number): Float32Array {
    return this.model.weights[position].read().dataSync() as Float32Array;
  }
}

function encode(version: number, values: Float32Array[], specs: TensorSpec[], dtype: DenseDType, delta: boolean, tensors?: number[]): EncodedWeights {
  const { header, parts } = encodeTensorSet(values, specs, dtype);
  return { version, delta, tensors, header, chunks: [...chunksOf(parts)] };
}
