import type * as tfl from '@tensorflow/tfjs-layers';
import type { GradientComputer, GradientSums } from '../shared/training/gradient-step';
import type { EvaluationResult } from '../shared/training/evaluation';
import type { WireDType } from '../shared/wire/tensor-codec';
import type { TopKCompressor } from '../shared/wire/top-k';

/** What a worker keeps across reconnections to the same run. */
export interface RunState {
  runId: string;
  topology: string;
  model: tfl.LayersModel;
  computer: GradientComputer;
  /** Loss and accuracy sums over training-set indices, with the model's weights as they are. */
  validate: (indices: Uint32Array) => EvaluationResult;
  dtype: WireDType;
  /** --compress topk: what this worker has not sent yet (error feedback), kept across reconnections. */
  topk?: TopKCompressor;
  weightsVersion: number;
  /** The evaluation (EMA) weights last sent, for the training weights version they go with. */
  evaluation?: { version: number; values: Float32Array[] };
  gradientSpecs: { name: string; shape: number[] }[];
  /** Gradients go out in parts as the backward pass finishes them; not with --micro-batch, whose float64 sums add up over the whole shard first, nor with --gradient-parts whole. */
  streamed: boolean;
  /** Say when a training weights version is in (--broadcast staggered: the next worker's weights wait for it). */
  acknowledgeWeights: boolean;
  /** Benchmarks only (--simulate-compute-ms): the gradient a simulated GPU answers with. */
  simulatedGradient?: GradientSums;
  /** When weights began to arrive since the last result was sent (0: none did), for the coordinator's timeline. */
  weightsArrivedAt: number;
}
