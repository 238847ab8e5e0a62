/**
 * A worker's answers to its assignments: the pass over the shard's samples
 * (whole, in parts as the backward pass finishes them, or simulated for
 * benchmarks), the gradient's encoding, and its handing to the transport.
 * The session loop in worker.ts decides when; this module knows how.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../shared/logging';
import { clockMs } from '../shared/observability/clock';
import type { GradientSums, ShardStats } from '../shared/training/gradient-step';
import { emptySums } from '../shared/training/gradient-sums';
import { withWeights } from '../shared/training/weights';
import { AssignmentMsg, CoordinatorMessage, dtypeName, ShardTimesMsg, WorkerMessage } from '../shared/wire/protocol';
import { chunksOf, elementCount, encodeTensorSet, TensorSetHeader } from '../shared/wire/tensor-codec';
import { mulberry32 } from '../shared/random';
import type { RunState } from './run-state';

export type Session = grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage>;

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

export const gradientSizes = (specs: RunState['gradientSpecs']) => specs.map((s) => elementCount(s.shape));

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

export function validateAndSend(session: Session, state: RunState, a: AssignmentMsg, times: ShardTimesMsg, log: Logger): void {
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

export async function computeAndSend(session: Session, state: RunState, a: AssignmentMsg, times: ShardTimesMsg, log: Logger, simulateComputeMs: number | undefined): Promise<void> {
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

export async function handedOver(written: Promise<void>): Promise<void> {
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
export function writeAll(session: Session, messages: WorkerMessage[]): Promise<void> {
  return new Promise((written) => messages.forEach((m, i) => session.write(m, i === messages.length - 1 ? () => written() : undefined)));
}
