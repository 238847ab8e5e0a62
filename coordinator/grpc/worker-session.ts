/**
 * The coordinator's side of a worker's Session stream. It only adapts:
 * decodes and checks messages, and hands the domain (membership, step
 * scheduler) plain values. A message it cannot accept is logged with its
 * reason; a worker that breaks the protocol is dropped, and the step
 * scheduler gives its shard to another worker.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../shared/logging';
import { checkChunk, checkGradientHeader, checkJoin, checkValidationResult, checkWeightsLoaded, checkWorkerMessage } from '../../shared/wire/incoming';
import type { ShardTask } from '../../shared/training/gradient-step';
import { FloatArray, TensorSetAssembler, TensorSpec, WireDType, WireFormatError } from '../../shared/wire/tensor-codec';
import {
  CoordinatorMessage,
  dtypeName,
  GradientHeaderMsg,
  JoinMsg,
  PROTOCOL_VERSION,
  ShardSumsMsg,
  StopScope,
  taskName,
  WelcomeMsg,
  wireDType,
  WorkerMessage,
} from '../../shared/wire/protocol';
import type { RateLimit } from '../admission';
import type { Member, Membership, RunOutcome, ShardAssignment, WorkerLink } from '../membership';
import type { StepScheduler } from '../step-scheduler';
import type { EncodedWeights, WeightsBroadcast } from '../weights-broadcast';
import type { RepeatedLines } from '../../shared/observability/repeated-lines';
import { endWithStatus } from './end-call';

export interface SessionContext {
  runId: string;
  membership: Membership;
  scheduler: StepScheduler;
  weights: WeightsBroadcast;
  gradientSpecs: TensorSpec[];
  gradientDtype: WireDType;
  maxTensorBytes: number;
  welcome: Omit<WelcomeMsg, 'workerId' | 'gradientDtype'>;
  log: Logger;
  /** Where refusals are said: a spare worker of a full run is turned away at every redial, every few seconds. */
  refusals: RepeatedLines;
  /** Bytes written and read on sessions, for the benchmarks and metrics. */
  traffic: { sent: number; received: number };
  joinRate: RateLimit;
  /** Told of every refused call or message, by kind (metrics). */
  onRefused?: (kind: 'resource_exhausted' | 'bad_message' | 'bad_gradient') => void;
}

type SessionCall = grpc.ServerDuplexStream<WorkerMessage, CoordinatorMessage>;

class GrpcWorkerLink implements WorkerLink {
  private sentVersion = -1;
  /** Early parts of version sentVersion + 1 written so far. */
  private earlyPartsSent = 0;
  private sentEvaluationVersion = -1;
  private closed = false;
  /** Read once: a closed call no longer knows its peer, and the logs that report the loss need it. */
  readonly address: string;

  constructor(
    private readonly call: SessionCall,
    private readonly ctx: SessionContext,
    readonly name: string,
    readonly backend: string,
  ) {
    this.address = call.getPeer();
  }

  private write(msg: CoordinatorMessage, bytes = 0): void {
    if (this.closed) return;
    this.ctx.traffic.sent += bytes;
    this.call.write(msg);
  }

  sendWeights(version: number): void {
    if (this.sentVersion === version) return;
    this.writeWeights(this.ctx.weights.forWorker(this.sentVersion, this.earlyPartsSent), false);
    this.sentVersion = version;
    this.earlyPartsSent = 0;
  }

  sendEarlyWeights(): void {
    const parts = this.ctx.weights.earlyParts(this.sentVersion);
    for (; this.earlyPartsSent < parts.length; this.earlyPartsSent++) this.writeWeights(parts[this.earlyPartsSent], false);
  }

  sendEvaluationWeights(version: number): void {
    const w = this.ctx.weights.evaluationWeights();
    if (this.sentEvaluationVersion === version || w === undefined) return;
    this.writeWeights(w, true);
    this.sentEvaluationVersion = version;
  }

  private writeWeights(w: EncodedWeights, evaluation: boolean): void {
    for (const m of weightsMessages(w, evaluation)) this.write(m, m.chunk?.data.byteLength ?? 0);
  }

  assign(a: ShardAssignment): void {
    const indices = Buffer.from(a.indices.buffer, a.indices.byteOffset, a.indices.byteLength);
    const assignment = { task: taskName(a.task), step: a.step, epoch: a.epoch, weightsVersion: a.weightsVersion, evaluationWeights: a.evaluationWeights, shardId: a.shardId, indices, seed: a.seed };
    this.write({ body: 'assignment', assignment }, indices.byteLength);
  }

  drop(reason: string): void {
    this.stop(reason, grpc.status.OK, 'STOP_WORKER_DROPPED');
  }

  endRun(reason: string, outcome: RunOutcome): void {
    this.stop(reason, grpc.status.OK, outcome === 'finished' ? 'STOP_RUN_FINISHED' : 'STOP_RUN_STOPPED');
  }

  /** Ends the session for breaking the protocol: the reason as a message, then INVALID_ARGUMENT as the status. */
  reject(reason: string): void {
    this.stop(reason, grpc.status.INVALID_ARGUMENT, 'STOP_WORKER_DROPPED');
  }

  private stop(reason: string, code: grpc.status, scope: StopScope): void {
    if (this.closed) return;
    this.write({ body: 'stop', stop: { reason, scope } });
    this.closed = true;
    if (code === grpc.status.OK) this.call.end();
    else endWithStatus(this.call, code, reason);
  }
}

/** Encoded weights as they go on a session: the header, then the chunks. */
export function weightsMessages(w: EncodedWeights, evaluation: boolean): CoordinatorMessage[] {
  const tensors = { ...w.header, dtype: dtypeName(w.header.dtype) };
  const header: CoordinatorMessage = { body: 'weights', weights: { version: w.version, delta: w.delta, evaluation, tensors, tensorIndices: w.tensors ?? [] } };
  const chunks = w.chunks.map((c): CoordinatorMessage => ({ body: 'chunk', chunk: { offset: c.offset, data: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength) } }));
  return [header, ...chunks];
}

export function handleWorkerSession(call: SessionCall, ctx: SessionContext): void {
  let member: Member | undefined;
  /** A gradient (or part) whose chunks are coming; `tensors` names its tensors when it is a part. */
  let pending: { header: GradientHeaderMsg; tensors: number[] | undefined; assembler: TensorSetAssembler } | undefined;
  const log = ctx.log;

  let link: GrpcWorkerLink | undefined;

  /** A protocol violation: the worker leaves (its shard goes elsewhere) and the call ends with INVALID_ARGUMENT. */
  const drop = (reason: string) => {
    ctx.onRefused?.('bad_message');
    log.warn(`dropping worker ${member?.id ?? call.getPeer()}: ${reason}`);
    if (member !== undefined) {
      ctx.membership.leave(member.id, reason);
      link!.reject(reason);
    } else {
      call.write({ body: 'reject', reject: { reason } });
      endWithStatus(call, grpc.status.INVALID_ARGUMENT, reason);
    }
  };

  const exhausted = (why: string, workerName = '') => {
    ctx.onRefused?.('resource_exhausted');
    ctx.refusals.say('warn', `${workerName}\n${why}`, `refused a worker${workerName === '' ? '' : ` (${workerName})`} from ${call.getPeer()}: ${why}`);
    endWithStatus(call, grpc.status.RESOURCE_EXHAUSTED, why);
  };

  const onJoin = (join: JoinMsg) => {
    if (!ctx.joinRate.tryTake()) return exhausted(`too many joins: at most ${ctx.joinRate.perSecond} per second`);
    if (join.protocolVersion !== PROTOCOL_VERSION) return drop(`protocol version ${join.protocolVersion}, this coordinator speaks ${PROTOCOL_VERSION}`);
    if (join.runId !== '' && join.runId !== ctx.runId) return drop(`worker asked for run '${join.runId}', this coordinator runs '${ctx.runId}'`);
    link = new GrpcWorkerLink(call, ctx, join.workerName, join.backend);
    try {
      member = ctx.membership.join(link);
    } catch (err) {
      return exhausted((err as Error).message, join.workerName);
    }
    log.info(`worker ${member.id} joined from ${link.address} (${join.workerName}, ${join.backend}); admitted at the next step`);
    call.write({ body: 'welcome', welcome: { ...ctx.welcome, workerId: member.id, gradientDtype: dtypeName(ctx.gradientDtype) } });
    ctx.scheduler.notifyJoined();
  };

  const onGradient = (header: GradientHeaderMsg) => {
    if (header.tensors === null) return drop('gradient without a tensor header');
    if (wireDType(header.tensors.dtype) !== ctx.gradientDtype) return drop(`gradient in ${header.tensors.dtype}, the run uses ${ctx.gradientDtype}`);
    // An empty list: the whole gradient.
    const tensors = header.tensorIndices !== undefined && header.tensorIndices.length > 0 ? header.tensorIndices : undefined;
    if (tensors?.some((t) => t >= ctx.gradientSpecs.length)) return drop(`gradient part names tensor ${Math.max(...tensors)}, the model has ${ctx.gradientSpecs.length}`);
    const assembler = new TensorSetAssembler(
      { tensors: header.tensors.tensors, dtype: ctx.gradientDtype, totalBytes: header.tensors.totalBytes, kept: header.tensors.kept },
      tensors?.map((t) => ctx.gradientSpecs[t]) ?? ctx.gradientSpecs,
      ctx.maxTensorBytes,
    );
    pending = { header, tensors, assembler };
  };

  /** Hands a shard's result to the scheduler; a refusal is logged and counted, the worker stays. */
  const deliver = (task: ShardTask, h: ShardSumsMsg, grads: FloatArray[], tensors?: number[]) => {
    const rejected = ctx.scheduler.deliver({
      task,
      tensors,
      workerId: member!.id,
      step: h.step,
      weightsVersion: h.weightsVersion,
      shardId: h.shardId,
      computeMs: h.computeMs,
      times: h.times ?? undefined,
      sums: { grads, count: h.count, lossSum: h.lossSum, correct: h.correct },
    });
    if (rejected === undefined) return;
    ctx.onRefused?.('bad_gradient');
    log.warn(`rejected ${task === 'train' ? 'a gradient' : 'a validation result'} from ${member!.id} for step ${h.step} shard ${h.shardId}: ${rejected}`);
  };

  const onChunk = (offset: number, data: Buffer) => {
    if (pending === undefined) return drop('tensor chunk without a header');
    ctx.traffic.received += data.byteLength;
    if (!pending.assembler.add(offset, data)) return;
    const { header, tensors, assembler } = pending;
    pending = undefined;
    deliver('train', header, assembler.values(), tensors);
  };

  call.on('data', (raw: WorkerMessage) => {
    try {
      const msg = checkWorkerMessage(raw);
      if (member === undefined) {
        if (msg.body !== 'join') return drop(`expected join first, got ${msg.body}`);
        return onJoin(checkJoin(msg.join));
      }
      ctx.membership.touch(member.id);
      if (msg.runId !== ctx.runId) return drop(`message for run '${msg.runId}', this coordinator runs '${ctx.runId}'`);
      switch (msg.body) {
        case 'gradient':
          return onGradient(checkGradientHeader(msg.gradient, ctx.maxTensorBytes));
        case 'chunk': {
          const c = checkChunk(msg.chunk);
          return onChunk(c.offset, c.data);
        }
        case 'validation':
          return deliver('validate', checkValidationResult(msg.validation), []);
        case 'heartbeat':
          return;
        case 'loaded':
          return ctx.scheduler.weightsLoaded(member.id, checkWeightsLoaded(msg.loaded));
        default:
          return drop(`unexpected message ${msg.body}`);
      }
    } catch (err) {
      if (err instanceof WireFormatError || err instanceof RangeError) return drop((err as Error).message);
      log.error(`session of ${member?.id ?? call.getPeer()} failed: ${(err as Error).stack}`);
      drop('internal error');
    }
  });
  const gone = (why: string) => () => member !== undefined && ctx.membership.leave(member.id, why);
  call.on('end', () => {
    gone('disconnected')();
    call.end();
  });
  call.on('error', (err) => gone(`stream error: ${err.message}`)());
  call.on('cancelled', gone('stream cancelled'));
}
