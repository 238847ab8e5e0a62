/**
 * The weights a worker is sent, put together: a whole version in one
 * message, or a version in parts (the tensors the coordinator updated
 * before the step ended, then the rest). A version goes into the model only
 * once every tensor of it is in, so a shard never computes on a mix of
 * versions. Evaluation weights (the EMA) always come whole and are kept
 * beside the model's.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { addInto, readWeights, writeWeights } from '../shared/training/weights';
import type { WeightsHeaderMsg } from '../shared/wire/protocol';
import { wireDType } from '../shared/wire/protocol';
import { TensorSetAssembler, TensorSpec, WireFormatError } from '../shared/wire/tensor-codec';

/** What a completed message did. */
export type WeightsReceived = { kind: 'training'; version: number } | { kind: 'evaluation'; version: number; values: Float32Array[] };

interface Incoming {
  version: number;
  delta: boolean;
  evaluation: boolean;
  positions: number[];
  assembler: TensorSetAssembler;
}

export class WeightsReceiver {
  private readonly specs: TensorSpec[];
  private incoming: Incoming | undefined;
  /** A version whose parts are coming in. */
  private staged: { version: number; delta: boolean; values: (Float32Array | undefined)[]; missing: number } | undefined;

  constructor(
    private readonly model: LayersModel,
    private readonly maxBytes: number,
  ) {
    this.specs = model.weights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
  }

  /**
   * A weights header; its chunks follow. `held` is the version in the
   * model. Returns whether this message completes a version (it is the
   * whole version, or its last part).
   */
  header(h: WeightsHeaderMsg, held: number): boolean {
    if (h.tensors === null) throw new WireFormatError('weights without a tensor header');
    const positions = this.positions(h.tensorIndices ?? []);
    if (h.evaluation && positions.length !== this.specs.length) throw new WireFormatError('evaluation weights in parts');
    if (h.delta && h.version !== held + 1) throw new WireFormatError(`weights change for version ${h.version}, but this worker holds ${held}`);
    const header = { ...h.tensors, dtype: wireDType(h.tensors.dtype) };
    this.incoming = { version: h.version, delta: h.delta, evaluation: h.evaluation, positions, assembler: new TensorSetAssembler(header, positions.map((i) => this.specs[i]), this.maxBytes) };
    if (h.evaluation) return true;
    // A part of another version than the one being put together replaces it: the coordinator moved on.
    if (this.staged?.version !== h.version || this.staged.delta !== h.delta) {
      this.staged = { version: h.version, delta: h.delta, values: new Array(this.specs.length).fill(undefined), missing: this.specs.length };
    }
    const repeated = positions.find((i) => this.staged!.values[i] !== undefined);
    if (repeated !== undefined) throw new WireFormatError(`weights version ${h.version} sent tensor ${repeated} twice`);
    return positions.length === this.staged.missing;
  }

  /** A chunk of the current message; once the message is complete, what it did. */
  chunk(offset: number, data: Uint8Array): WeightsReceived | undefined {
    const m = this.incoming;
    if (m === undefined) return undefined;
    if (!m.assembler.add(offset, data)) return undefined;
    this.incoming = undefined;
    const values = m.assembler.float32Values();
    if (m.evaluation) return { kind: 'evaluation', version: m.version, values };
    const staged = this.staged!;
    m.positions.forEach((i, j) => (staged.values[i] = values[j]));
    staged.missing -= m.positions.length;
    if (staged.missing > 0) return undefined;
    this.staged = undefined;
    const complete = staged.values as Float32Array[];
    if (staged.delta) {
      const held = readWeights(this.model);
      addInto(held, complete);
      writeWeights(this.model, held);
    } else {
      writeWeights(this.model, complete);
    }
    return { kind: 'training', version: staged.version };
  }

  private positions(indices: number[]): number[] {
    if (indices.length === 0) return this.specs.map((_, i) => i);
    indices.forEach((t, i) => {
      if (!Number.isInteger(t) || t >= this.specs.length) throw new WireFormatError(`weights name tensor ${t}, the model has ${this.specs.length}`);
      if (i > 0 && t <= indices[i - 1]) throw new WireFormatError('weights tensor indices are not strictly increasing');
    });
    return indices;
  }
}
