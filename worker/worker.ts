/**
 * `startWorker(options)`: dials the coordinator, joins its run, and computes
 * gradient sums for the shards it is given until the run ends. A lost
 * coordinator is redialled with backoff; restarting the coordinator never
 * needs the workers restarted.
 */
import * as os from 'node:os';
import * as grpc from '@grpc/grpc-js';
import * as tfl from '@tensorflow/tfjs-layers';
import { BackendName, initBackend } from '../shared/backends/backend-loader';
import { selectGpu } from '../shared/config/env';
import { UserError } from '../shared/errors';
import { getLogger, Logger } from '../shared/logging';
import type { ConnectionSecurity } from '../shared/security/connection-security';
import { channelCredentials } from '../shared/security/tls';
import { tokenMetadata } from '../shared/security/token';
import { clockMs } from '../shared/observability/clock';
import { GradientComputer, GradientSums, ShardStats } from '../shared/training/gradient-step';
import { evaluate, EvaluationResult } from '../shared/training/evaluation';
import { emptySums } from '../shared/training/gradient-sums';
import { withWeights } from '../shared/training/weights';
import {
  AssignmentMsg,
  CHANNEL_OPTIONS,
  CoordinatorMessage,
  DatasetChunkMsg,
  dtypeName,
  ShardTimesMsg,
  PROTOCOL_VERSION,
  protocol,
  WelcomeMsg,
  wireDType,
  WorkerMessage,
} from '../shared/wire/protocol';
import { chunksOf, elementCount, encodeTensorSet, TensorSetHeader, WireDType } from '../shared/wire/tensor-codec';
import { TopKCompressor } from '../shared/wire/top-k';
import { mulberry32 } from '../shared/random';
import { backoffDelay } from './backoff';
import { obtainDataset } from './dataset-cache';
import { WeightsReceiver } from './weights-receiver';

export interface WorkerOptions {
  coordinator: string;
  backend: BackendName;
  gpu?: number;
  dataDir: string;
  cacheDir: string;
  name?: string;
  runId?: string;
  security?: ConnectionSecurity;
  /** Benchmarks only: answer each shard after this many ms with a fixed small-noise gradient instead of computing. */
  simulateComputeMs?: number;
}

export interface WorkerHandle {
  /** Resolves when the run has finished; rejects on an error the worker cannot retry. */
  done: Promise<void>;
  stop(): void;
}

/** What a worker keeps across reconnections to the same run. */
interface RunState {
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

/** The coordinator ended the session for good: the run finished, or it will never take this worker. */
class SessionOver extends Error {
  constructor(
    message: string,
    readonly finished: boolean,
  ) {
    super(message);
  }
}

const MAX_WEIGHTS_BYTES = 1024 * 2 ** 20;

export function startWorker(o: WorkerOptions): WorkerHandle {
  const name = o.name ?? `${os.hostname()}-${process.pid}`;
  const log = getLogger({ component: 'worker', workerId: name });
  if (o.gpu !== undefined) selectGpu(o.gpu);
  const v1 = protocol();
  const security = o.security ?? { token: undefined, tls: {} };
  const client = new v1.Training(o.coordinator, channelCredentials(security.tls), CHANNEL_OPTIONS) as unknown as {
    Session(metadata: grpc.Metadata): grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage>;
    FetchDataset(req: { runId: string; sha256: string }, metadata: grpc.Metadata): grpc.ClientReadableStream<DatasetChunkMsg>;
    close(): void;
  };
  const credentials = () => tokenMetadata(new grpc.Metadata(), security.token);
  let stopped = false;
  let call: grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage> | undefined;
  let state: RunState | undefined;
  let backendName: string | undefined;

  const setUp = async (welcome: WelcomeMsg): Promise<RunState> => {
    if (state !== undefined && state.runId === welcome.runId && state.topology === welcome.modelTopologyJson) return state;
    backendName ??= (await initBackend(o.backend)).name;
    const identity = welcome.dataset!;
    const dataset = await obtainDataset(identity, {
      dataDir: o.dataDir,
      cacheDir: o.cacheDir,
      log,
      fetch: (sha256) => client.FetchDataset({ runId: welcome.runId, sha256 }, credentials()),
    });
    state?.model.dispose();
    const model = (await tfl.models.modelFromJSON(JSON.parse(welcome.modelTopologyJson))) as tfl.LayersModel;
    const augment = welcome.augmentShift > 0 || welcome.augmentRotate > 0 ? { shift: welcome.augmentShift, rotate: welcome.augmentRotate } : undefined;
    const dtype = wireDType(welcome.gradientDtype);
    const gradientSpecs = model.trainableWeights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
    if (dtype === 'topk' && !(welcome.topkRatio > 0 && welcome.topkRatio <= 1)) throw new SessionOver(`the coordinator asked for top-k gradients with ratio ${welcome.topkRatio}`, false);
    return {
      runId: welcome.runId,
      topology: welcome.modelTopologyJson,
      model,
      computer: new GradientComputer(model, dataset.train, dataset.shape, { numClasses: identity.numClasses, augment, microBatch: welcome.microBatch }),
      validate: (indices) => evaluate({ model, set: dataset.train, shape: dataset.shape, numClasses: identity.numClasses, indices }),
      dtype,
      topk: dtype === 'topk' ? new TopKCompressor(gradientSizes(gradientSpecs), welcome.topkRatio) : undefined,
      weightsVersion: -1,
      weightsArrivedAt: 0,
      gradientSpecs,
      streamed: !(welcome.microBatch > 0) && !welcome.wholeGradients,
      acknowledgeWeights: welcome.acknowledgeWeights,
    };
  };

  const runSession = async (onWelcome: () => void): Promise<void> => {
    const session = client.Session(credentials());
    call = session;
    session.write({ runId: o.runId ?? '', body: 'join', join: { protocolVersion: PROTOCOL_VERSION, runId: o.runId ?? '', workerName: name, backend: o.backend } });
    let weights: WeightsReceiver | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let ended = false;
    session.on('status', () => (ended = true));
    try {
      for await (const msg of session as AsyncIterable<CoordinatorMessage>) {
        switch (msg.body) {
          case 'welcome': {
            const w = msg.welcome!;
            state = await setUp(w);
            weights = new WeightsReceiver(state.model, MAX_WEIGHTS_BYTES);
            log.info(`joined run ${w.runId} as ${w.workerId} (backend ${backendName})`);
            onWelcome();
            heartbeat = setInterval(() => session.write({ runId: w.runId, body: 'heartbeat', heartbeat: { unixMs: Date.now() } }), w.heartbeatIntervalMs || 2000);
            heartbeat.unref();
            break;
          }
          case 'weights': {
            const at = clockMs();
            // Early parts come while this worker computes: the timeline counts from the message that completes the version.
            if (weights!.header(msg.weights!, state!.weightsVersion)) state!.weightsArrivedAt ||= at;
            break;
          }
          case 'chunk': {
            const c = msg.chunk!;
            const received = weights?.chunk(c.offset, c.data);
            if (received?.kind === 'evaluation') state!.evaluation = { version: received.version, values: received.values };
            if (received?.kind === 'training') {
              state!.weightsVersion = received.version;
              // Handed over before the next message, an assignment whose computing would hold the answer back.
              if (state!.acknowledgeWeights) await handedOver(writeAll(session, [{ runId: state!.runId, body: 'loaded', loaded: { version: received.version } }]));
            }
            break;
          }
          case 'assignment': {
            // A shard queued before the coordinator ended this session (it dropped this worker) is not worth a pass,
            // which can take seconds: one turn of the event loop first reads the session's end, if it came.
            await new Promise((resolve) => setImmediate(resolve));
            if (ended) break;
            const times = { weightsReceived: state!.weightsArrivedAt, assigned: clockMs(), computeStart: 0, computeEnd: 0, sent: 0 };
            if (msg.assignment!.task === 'TASK_VALIDATE') validateAndSend(session, state!, msg.assignment!, times, log);
            // Awaited: the next message (new weights) waits until this shard's backward pass is done.
            else await computeAndSend(session, state!, msg.assignment!, times, log, o.simulateComputeMs);
            break;
          }
          case 'reject':
            throw new SessionOver(`the coordinator refused this worker: ${msg.reject!.reason}`, false);
          case 'stop':
            throw new SessionOver(msg.stop!.reason, msg.stop!.reason === 'training finished');
          default:
            break;
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
  };

  const done = (async () => {
    let attempt = 0;
    while (!stopped) {
      try {
        await runSession(() => (attempt = 0));
        log.warn('the coordinator closed the session; reconnecting');
      } catch (err) {
        if (err instanceof SessionOver) {
          if (err.finished) {
            log.info('the run has finished');
            break;
          }
          if (/refused this worker/.test(err.message)) throw new UserError(err.message);
          log.warn(`session ended: ${err.message}; reconnecting`);
        } else if ((err as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED) {
          throw new UserError(`the coordinator at ${o.coordinator} refused this worker's credentials: ${(err as grpc.ServiceError).details}`);
        } else if (!stopped) {
          log.warn(`lost the coordinator at ${o.coordinator}: ${(err as Error).message.split('\n')[0]}; retrying`);
        }
      }
      if (stopped) break;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt++)));
    }
    client.close();
  })();

  return {
    done,
    stop: () => {
      stopped = true;
      call?.cancel();
    },
  };
}

type Session = grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage>;

/** The assignment's sample indices, or undefined (with a warning) when this worker lacks the weights it names. */
function indicesToCompute(state: RunState, a: AssignmentMsg, log: Logger): Uint32Array | undefined {
  const held = a.evaluationWeights ? (state.evaluation?.version ?? -1) : state.weightsVersion;
  if (a.weightsVersion !== held) {
    const which = a.evaluationWeights ? 'evaluation weights' : 'weights';
    log.warn(`assignment for ${which} version ${a.weightsVersion}, have ${held}; skipping (the coordinator reassigns)`);
    return undefined;
  }
  return new Uint32Array(a.indices.buffer.slice(a.indices.byteOffset, a.indices.byteOffset + a.indices.byteLength));
}

const gradientSizes = (specs: RunState['gradientSpecs']) => specs.map((s) => elementCount(s.shape));

function simulatedGradient(sizes: number[]): GradientSums {
  const noise = mulberry32(1);
  const sums = emptySums(sizes);
  for (const g of sums.grads) for (let i = 0; i < g.length; i++) g[i] = (noise() - 0.5) * 1e-6;
  return sums;
}

/** Stamps the end of a shard's work on `times`; the weights that arrived for it are now accounted for. */
function finish(state: RunState, times: ShardTimesMsg): ShardTimesMsg {
  times.sent = clockMs();
  state.weightsArrivedAt = 0;
  return times;
}

function validateAndSend(session: Session, state: RunState, a: AssignmentMsg, times: ShardTimesMsg, log: Logger): void {
  const indices = indicesToCompute(state, a, log);
  if (indices === undefined) return;
  times.computeStart = clockMs();
  const result = a.evaluationWeights ? withWeights(state.model, state.evaluation!.values, () => state.validate(indices)) : state.validate(indices);
  times.computeEnd = clockMs();
  const computeMs = times.computeEnd - times.computeStart;
  const { count, lossSum, correct } = result;
  const validation = { step: a.step, weightsVersion: a.weightsVersion, shardId: a.shardId, count, lossSum, correct, computeMs, times: finish(state, times) };
  session.write({ runId: state.runId, body: 'validation', validation });
}

async function computeAndSend(session: Session, state: RunState, a: AssignmentMsg, times: ShardTimesMsg, log: Logger, simulateComputeMs: number | undefined): Promise<void> {
  const indices = indicesToCompute(state, a, log);
  if (indices === undefined) return;
  times.computeStart = clockMs();
  if (simulateComputeMs !== undefined) {
    // Benchmarks only: a GPU of known speed, which leaves the CPU free while it works. Its gradient is
    // small noise (made once), not zeros, so that --compress topk selects among values as in training.
    state.simulatedGradient ??= simulatedGradient(gradientSizes(state.gradientSpecs));
    const sums = { ...state.simulatedGradient, count: indices.length };
    setTimeout(() => {
      times.computeEnd = clockMs();
      void sendGradient(session, state, a, sums, times);
    }, simulateComputeMs);
    return;
  }
  if (state.streamed) {
    await computeInParts(session, state, a, indices, times);
    return;
  }
  const sums = state.computer.compute({ indices, seed: a.seed });
  times.computeEnd = clockMs();
  void sendGradient(session, state, a, sums, times);
}

/**
 * Finished gradients go out together once they reach this size, so biases
 * ride with the next kernel instead of costing a message each.
 */
const PART_BYTES = 64 * 1024;

/**
 * The gradient in parts, each sent as soon as the backward pass has
 * finished its tensors (the last layers' first): they cross the network,
 * and the coordinator applies them, while the first layers' backward pass
 * runs here.
 */
async function computeInParts(session: Session, state: RunState, a: AssignmentMsg, indices: Uint32Array, times: ShardTimesMsg): Promise<void> {
  let part: { index: number; values: Float32Array }[] = [];
  let bytes = 0;
  const send = (stats: ShardStats, partTimes: ShardTimesMsg) => {
    part.sort((x, y) => x.index - y.index);
    const written = sendGradient(session, state, a, { ...stats, grads: part.map((p) => p.values) }, partTimes, part.map((p) => p.index));
    part = [];
    bytes = 0;
    return written;
  };
  let finished = 0;
  const stats = await state.computer.computeStreamed({ indices, seed: a.seed }, async (index, values, shardStats) => {
    part.push({ index, values });
    bytes += values.byteLength;
    // The last part goes after the pass has freed its tensors, right before this thread turns to the socket.
    if (++finished === state.gradientSpecs.length || bytes < PART_BYTES) return;
    await handedOver(send(shardStats, { ...times, computeEnd: clockMs() }));
  });
  times.computeEnd = clockMs();
  void send(stats, times);
}

/**
 * The transport runs on this thread, between the backward pass's steps: a
 * part gets the event loop until HTTP/2 has taken its last message and one
 * turn more, in which Node's HTTP/2 session writes what it queued to the
 * socket (without that turn keras-cnn's second part waited for the end of the
 * pass: a median 15 ms on the way instead of 1.3 ms, in trace.json). At most
 * this many turns: a full socket on a slow link must not hold up the pass;
 * what it cannot take goes with the next part or at the end.
 */
const HANDOVER_TURNS = 16;

async function handedOver(written: Promise<void>): Promise<void> {
  let done = false;
  void written.then(() => (done = true));
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  for (let n = 0; n < HANDOVER_TURNS && !done; n++) await turn();
  await turn();
}

/** The gradient (or the part of it named by `tensors`) as it travels: dense in the run's dtype, or its largest entries (the rest stays in the residual). */
function encodeGradient(state: RunState, sums: GradientSums, tensors?: number[]): { header: TensorSetHeader; parts: Uint8Array[] } {
  const specs = tensors === undefined ? state.gradientSpecs : tensors.map((t) => state.gradientSpecs[t]);
  if (state.dtype !== 'topk') return encodeTensorSet(sums.grads, specs, state.dtype);
  const { kept, parts } = state.topk!.compress(sums.grads, tensors);
  return { header: { tensors: specs, dtype: 'topk', totalBytes: parts.reduce((n, p) => n + p.byteLength, 0), kept }, parts };
}

/** Writes the gradient (or a part of it); resolves once the transport has taken its last message, or the call has failed. */
function sendGradient(session: Session, state: RunState, a: AssignmentMsg, sums: GradientSums, times: ShardTimesMsg, tensors?: number[]): Promise<void> {
  const { header, parts } = encodeGradient(state, sums, tensors);
  const computeMs = times.computeEnd - times.computeStart;
  const messages: WorkerMessage[] = [
    {
      runId: state.runId,
      body: 'gradient',
      gradient: {
        step: a.step,
        weightsVersion: a.weightsVersion,
        shardId: a.shardId,
        count: sums.count,
        lossSum: sums.lossSum,
        correct: sums.correct,
        computeMs,
        tensors: { tensors: header.tensors, dtype: dtypeName(state.dtype), totalBytes: header.totalBytes, kept: header.kept },
        tensorIndices: tensors ?? [],
        times: finish(state, times),
      },
    },
  ];
  for (const c of chunksOf(parts)) messages.push({ runId: state.runId, body: 'chunk', chunk: { offset: c.offset, data: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength) } });
  return writeAll(session, messages);
}

/** Writes the messages in order; resolves once the transport has taken the last, or the call has failed. */
function writeAll(session: Session, messages: WorkerMessage[]): Promise<void> {
  return new Promise((written) => messages.forEach((m, i) => session.write(m, i === messages.length - 1 ? () => written() : undefined)));
}
