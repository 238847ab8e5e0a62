/**
 * The gRPC services of proto/gradfleet.proto, loaded with @grpc/proto-loader,
 * and hand-kept TypeScript types for its messages (field names camelCased by
 * the loader, 64-bit integers as numbers, enums as their names).
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ShardTimes } from '../observability/clock';
import type { ShardTask } from '../training/gradient-step';
import { WireDType, WireFormatError } from './tensor-codec';

/**
 * 2: validation shards (Assignment.task, ValidationResult, evaluation weights).
 * 3: top-k gradients (DTYPE_TOPK_FLOAT32, TensorSetHeader.kept, Welcome.topk_ratio), ShardTimes.
 * 4: a shard's gradient in parts, sent as the backward pass finishes them (GradientHeader.tensor_indices).
 * 5: a version of the weights in parts, the early-updated tensors first (WeightsHeader.tensor_indices).
 * 6: WeightsLoaded, a worker's word that it holds a version (Welcome.acknowledge_weights; --broadcast staggered).
 * 7: Stop.scope: this worker dropped, the run finished, or the run stopped unfinished (a v6 worker read 'finished' from the reason's text).
 */
export const PROTOCOL_VERSION = 7;
export const PROTO_FILE = path.resolve(__dirname, '../../../proto/gradfleet.proto');
/** Chunks are at most 1 MiB; messages carry a little more than their chunk. */
export const MAX_MESSAGE_BYTES = 2 * (1 << 20);

export type DTypeName = 'DTYPE_FLOAT32' | 'DTYPE_FLOAT16' | 'DTYPE_BFLOAT16' | 'DTYPE_FLOAT64' | 'DTYPE_TOPK_FLOAT32';

export interface TensorSpecMsg {
  name: string;
  shape: number[];
}
export interface TensorSetHeaderMsg {
  tensors: TensorSpecMsg[];
  dtype: DTypeName;
  totalBytes: number;
  /** Top-k sets only (the loader decodes it as [] otherwise). */
  kept?: number[];
}
export interface ChunkMsg {
  offset: number;
  data: Buffer;
}
export interface JoinMsg {
  protocolVersion: number;
  runId: string;
  workerName: string;
  backend: string;
}
export type ShardTimesMsg = ShardTimes;
/** Which shard a result answers, and its sums: what a gradient header and a validation result share. */
export interface ShardSumsMsg {
  step: number;
  weightsVersion: number;
  shardId: number;
  count: number;
  lossSum: number;
  correct: number;
  computeMs: number;
  times?: ShardTimesMsg | null;
}
export interface GradientHeaderMsg extends ShardSumsMsg {
  tensors: TensorSetHeaderMsg | null;
  /** The gradient tensors this part carries, by position in the model's trainable weights ([] or absent: all of them). */
  tensorIndices?: number[];
}
export type ValidationResultMsg = ShardSumsMsg;
export interface HeartbeatMsg {
  unixMs: number;
}
export interface WeightsLoadedMsg {
  version: number;
}
export interface WorkerMessage {
  runId: string;
  body?: 'join' | 'gradient' | 'chunk' | 'heartbeat' | 'validation' | 'loaded';
  join?: JoinMsg | null;
  gradient?: GradientHeaderMsg | null;
  validation?: ValidationResultMsg | null;
  chunk?: ChunkMsg | null;
  heartbeat?: HeartbeatMsg | null;
  loaded?: WeightsLoadedMsg | null;
}
export interface DatasetIdentityMsg {
  name: string;
  sha256: string;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  trainCount: number;
}
export interface WelcomeMsg {
  runId: string;
  workerId: string;
  modelTopologyJson: string;
  dataset: DatasetIdentityMsg | null;
  augmentShift: number;
  augmentRotate: number;
  gradientDtype: DTypeName;
  heartbeatIntervalMs: number;
  microBatch: number;
  topkRatio: number;
  wholeGradients: boolean;
  acknowledgeWeights: boolean;
}
export interface WeightsHeaderMsg {
  version: number;
  tensors: TensorSetHeaderMsg | null;
  delta: boolean;
  evaluation: boolean;
  /** The weights this part carries, by position in the model's weights ([] or absent: all of them). */
  tensorIndices?: number[];
}
export type TaskName = 'TASK_TRAIN' | 'TASK_VALIDATE';
export interface AssignmentMsg {
  task: TaskName;
  evaluationWeights: boolean;
  step: number;
  epoch: number;
  weightsVersion: number;
  shardId: number;
  indices: Buffer;
  seed: number;
}
export type StopScope = 'STOP_WORKER_DROPPED' | 'STOP_RUN_FINISHED' | 'STOP_RUN_STOPPED';
export interface StopMsg {
  reason: string;
  scope: StopScope;
}
export interface CoordinatorMessage {
  body?: 'welcome' | 'weights' | 'chunk' | 'assignment' | 'reject' | 'stop' | 'heartbeat';
  welcome?: WelcomeMsg | null;
  weights?: WeightsHeaderMsg | null;
  chunk?: ChunkMsg | null;
  assignment?: AssignmentMsg | null;
  reject?: { reason: string } | null;
  stop?: StopMsg | null;
  heartbeat?: HeartbeatMsg | null;
}
export interface DatasetRequestMsg {
  runId: string;
  sha256: string;
}
export interface DatasetChunkMsg {
  offset: number;
  totalBytes: number;
  data: Buffer;
}
export interface WorkerStatusMsg {
  workerId: string;
  name: string;
  address: string;
  backend: string;
  state: string;
  samplesPerSecond: number;
  lastSeenUnixMs: number;
  shardsDone: number;
  silentMs: number;
}
export interface StatusReplyMsg {
  runId: string;
  state: string;
  step: number;
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  samplesPerSecond: number;
  workers: WorkerStatusMsg[];
  model: string;
  dataset: string;
}

interface ProtoPackage {
  gradfleet: {
    v1: {
      Training: grpc.ServiceClientConstructor;
      Operator: grpc.ServiceClientConstructor;
    };
  };
}

let loaded: ProtoPackage | undefined;

export function protocol(): ProtoPackage['gradfleet']['v1'] {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(PROTO_FILE, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoPackage;
  }
  return loaded.gradfleet.v1;
}

/**
 * HTTP/2 receive window, per stream and per connection. Node's default is
 * 64 KiB: a 0.5 MiB weights message then waits for eight WINDOW_UPDATE round
 * trips between two busy event loops, which cost a 1-worker keras-cnn step
 * 2-4 ms (measured; BENCHMARKS.md). 16 MiB holds the largest preset's
 * weights (cnn, 13 MB) in flight.
 */
export const FLOW_CONTROL_WINDOW = 16 * 2 ** 20;

/**
 * The coordinator's server: no keepalive pings of its own. A worker answers
 * nothing while it computes (pings included: one thread does both), so a
 * ping timeout would drop every worker whose pass outlasts it; the
 * heartbeat monitor, which knows who is computing, detects dead workers
 * instead. It still answers the workers' pings.
 */
export const SERVER_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
};

/**
 * Clients' channels (workers, `status`): a keepalive ping every 10 s
 * detects a coordinator behind a dead link, with gRPC's default 20 s
 * timeout. A worker in a long pass reads the answer once the pass ends;
 * 52 s passes (the pure-JS cpu backend, keras-cnn at batch 128) ran
 * without a drop.
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...SERVER_OPTIONS,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 20_000,
};

const DTYPE_NAMES: Record<WireDType, DTypeName> = {
  float32: 'DTYPE_FLOAT32',
  float16: 'DTYPE_FLOAT16',
  bfloat16: 'DTYPE_BFLOAT16',
  float64: 'DTYPE_FLOAT64',
  topk: 'DTYPE_TOPK_FLOAT32',
};

/** The codec's dtype for an enum name; an unknown name (a newer or hostile peer) is a format error. */
export function wireDType(name: DTypeName): WireDType {
  const found = (Object.keys(DTYPE_NAMES) as WireDType[]).find((d) => DTYPE_NAMES[d] === name);
  if (found === undefined) throw new WireFormatError(`unknown tensor dtype ${String(name)}`);
  return found;
}

export function dtypeName(dtype: WireDType): DTypeName {
  return DTYPE_NAMES[dtype];
}

export function taskName(task: ShardTask): TaskName {
  return task === 'train' ? 'TASK_TRAIN' : 'TASK_VALIDATE';
}
