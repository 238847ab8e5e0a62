/**
 * `startCoordinator(options)`: serves a run to workers and drives it. The
 * training loop, optimizer and evaluation are the one-process ones; the
 * gradients come from the step scheduler, which farms shards out to workers.
 */
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { TrainingOptions } from '../shared/config/training-options';
import { packDataset } from '../shared/data/dataset-archive';
import { ConfigError } from '../shared/errors';
import { claimRunDirectory } from '../shared/io/run-directory';
import { getLogger, Logger } from '../shared/logging';
import { RepeatedLines } from '../shared/observability/repeated-lines';
import { ChromeTrace } from '../shared/observability/chrome-trace';
import { clockMs } from '../shared/observability/clock';
import type { ConnectionSecurity } from '../shared/security/connection-security';
import { checkListenPolicy } from '../shared/security/listen-policy';
import { isTls, serverCredentials } from '../shared/security/tls';
import type { EpochLogs, StepLogs } from '../shared/training/callbacks';
import { prepareRun } from '../shared/training/run-setup';
import { readWeights } from '../shared/training/weights';
import { elementCount, WireDType } from '../shared/wire/tensor-codec';
import type { StatusReplyMsg } from '../shared/wire/protocol';
import { startGrpcServer } from './grpc/server';
import { ConcurrencyLimit, RateLimit } from './admission';
import { BroadcastPolicy, BroadcastTrial, BroadcastTuner, fixedBroadcast } from './broadcast-policy';
import { HeartbeatMonitor } from './heartbeat-monitor';
import { startHttpServer } from './http-server';
import { CoordinatorMetrics } from './metrics';
import { RunHistory } from './run-history';
import { Membership, RunOutcome } from './membership';
import { CpuPerStep } from './cpu-per-step';
import { StepScheduler } from './step-scheduler';
import { COMMUNICATION_PHASES, StepTimeline } from './step-timeline';
import { ClusterCommand, runTrainingSession, SessionResult } from './training-session';
import { withInitFromLocated } from './saved-model-location';
import { WeightsBroadcast, WeightsDType } from './weights-broadcast';

export interface CoordinatorOptions extends TrainingOptions {
  host: string;
  port: number;
  minWorkers: number;
  maxWorkers: number;
  compress: 'none' | 'fp16' | 'bf16' | 'topk';
  /** --compress topk: the fraction of each gradient tensor's entries a worker sends. */
  topkRatio: number;
  shardDeadlineFactor: number;
  /** streamed: gradients in parts as workers' backward passes finish them, applied as they complete; whole: one message per shard. */
  gradientParts: 'streamed' | 'whole';
  /** throughput: shards follow measured samples/s (the default); equal: the same size for all. */
  shardSizing: 'throughput' | 'equal';
  /** together: every worker gets a step's weights at once; staggered: one after another, each once the one before holds them; auto: whichever the run measures faster. */
  broadcast: 'together' | 'staggered' | 'auto';
  /** Seconds. */
  minShardDeadline: number;
  /** Seconds, before any shard has finished. */
  firstShardDeadline: number;
  /** Seconds of silence after which a worker is dropped. */
  heartbeatTimeout: number;
  security: ConnectionSecurity;
  /** Listen on a non-loopback address without a token. */
  insecure: boolean;
  maxJoinsPerSecond: number;
  maxDatasetTransfers: number;
  /** Serve Prometheus metrics here (0: any free port); undefined: no HTTP server. */
  metricsPort?: number;
}

export interface CoordinatorHandle {
  port: number;
  result: Promise<SessionResult>;
  /** Bytes of tensors and indices sent and received on worker sessions so far. */
  traffic: { sent: number; received: number };
  /** Where /metrics is served, when --metrics-port was given. */
  metricsPort: number | undefined;
  stop(reason: string): Promise<void>;
}

/** What travels for each --compress: gradients up, and weights (in full, or their change) down. */
const WIRE_DTYPES: Record<CoordinatorOptions['compress'], { gradients: WireDType; weights: WeightsDType }> = {
  none: { gradients: 'float32', weights: 'float32' },
  fp16: { gradients: 'float16', weights: 'float16' },
  bf16: { gradients: 'bfloat16', weights: 'bfloat16' },
  topk: { gradients: 'topk', weights: 'float16' },
};

/** Deterministic runs send exact float64 partial sums; compression would undo what they are for. */
function gradientDtype(o: CoordinatorOptions): WireDType {
  if (o.microBatch === 0) return WIRE_DTYPES[o.compress].gradients;
  if (o.compress !== 'none') throw new ConfigError(`--micro-batch (deterministic sums) and --compress ${o.compress} exclude each other`);
  return 'float64';
}
/** --broadcast as a policy; each of auto's choices is logged and kept for the summary. */
function broadcastPolicy(mode: CoordinatorOptions['broadcast'], log: Logger, trials: BroadcastTrial[]): BroadcastPolicy {
  if (mode !== 'auto') return fixedBroadcast(mode);
  return new BroadcastTuner({
    warmupSteps: 5,
    trialSteps: 10,
    staggeredBelow: 0.95,
    onChoice: (t) => {
      trials.push(t);
      log.info(`--broadcast auto, ${t.workers} worker(s): ${t.chosen} (median step exchange ${t.togetherMs.toFixed(1)} ms together, ${t.staggeredMs.toFixed(1)} ms staggered)`);
    },
  });
}

/** Per tensor set: far above any preset (cnn: 13 MB), far below what would hurt the coordinator. */
const MAX_TENSOR_BYTES = 512 * 2 ** 20;

/**
 * `command` is what the run directory's lock, config.json and summary.json
 * name: `local` when `gradfleet local` runs this coordinator, so that a user
 * refused a busy directory, or a script reading summaries, knows which
 * command it was.
 */
export async function startCoordinator(o: CoordinatorOptions, command: ClusterCommand = 'coordinator'): Promise<CoordinatorHandle> {
  const log = getLogger({ component: 'coordinator', runId: o.runId });
  checkListenPolicy(o.host, { token: o.security.token, insecure: o.insecure, tls: isTls(o.security.tls) }, log);
  const claim = claimRunDirectory(o.runDir, command, log);
  try {
    const handle = await serve(o, command, log);
    // Given up once the run has ended, checkpoints and summary written.
    return { ...handle, result: handle.result.finally(() => claim.release()) };
  } catch (err) {
    // Failed to start (a port in use, a dataset that cannot load): the directory is free for the next try.
    claim.release();
    throw err;
  }
}

async function serve(o: CoordinatorOptions, command: ClusterCommand, log: Logger): Promise<CoordinatorHandle> {
  const credentials = serverCredentials(o.security.tls);
  const dtype = gradientDtype(o);
  const run = await prepareRun(withInitFromLocated(o, log));
  const membership = new Membership(o.maxWorkers);
  const weights = new WeightsBroadcast(run.model, WIRE_DTYPES[o.compress].weights);
  const gradientSpecs = run.model.trainableWeights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
  const trace = new ChromeTrace(path.join(o.runDir, 'trace.json'), (err) => log.warn(`cannot write trace.json (${err.message}); the timeline stops here, training goes on`));
  const timeline = new StepTimeline(trace);
  const broadcastTrials: BroadcastTrial[] = [];
  const scheduler = new StepScheduler(
    membership,
    {
      minWorkers: o.minWorkers,
      equalShards: o.shardSizing === 'equal',
      broadcast: broadcastPolicy(o.broadcast, log, broadcastTrials),
      deadlines: { factor: o.shardDeadlineFactor, minMs: o.minShardDeadline * 1000, firstMs: o.firstShardDeadline * 1000 },
      microBatch: o.microBatch,
      gradientSizes: gradientSpecs.map((s) => elementCount(s.shape)),
    },
    log,
    timeline,
    weights,
  );
  const heartbeats = new HeartbeatMonitor(
    membership,
    { timeoutMs: o.heartbeatTimeout * 1000, allowanceMs: (id) => scheduler.silenceAllowanceMs(id) },
    log,
  );
  const traffic = { sent: 0, received: 0 };
  const metrics = new CoordinatorMetrics({ liveWorkers: () => membership.live().length, traffic, phases: () => timeline.latest });
  const history = new RunHistory(() => timeline.latest);
  const live = { state: 'waiting', step: 0, epoch: 0, last: undefined as StepLogs | undefined, epochLogs: undefined as EpochLogs | undefined };
  let packed: Buffer | undefined;
  const status = (): StatusReplyMsg => ({
    runId: o.runId,
    state: live.state === 'training' && scheduler.pausedForWorkers() ? 'waiting for workers' : live.state,
    step: live.step,
    epoch: live.epoch,
    epochs: o.epochs,
    loss: live.last?.loss ?? NaN,
    accuracy: live.last?.accuracy ?? NaN,
    valLoss: live.epochLogs?.val_loss ?? NaN,
    valAccuracy: live.epochLogs?.val_accuracy ?? NaN,
    samplesPerSecond: live.last ? live.last.samples / live.last.seconds : 0,
    model: o.model,
    dataset: run.dataset.name,
    workers: membership.live().map((m) => ({
      workerId: m.id,
      name: m.link.name,
      address: m.link.address,
      backend: m.link.backend,
      state: scheduler.sittingOut(m.id) ? 'sitting out' : m.state,
      samplesPerSecond: m.samplesPerSecond,
      lastSeenUnixMs: m.lastSeen,
      shardsDone: m.shardsDone,
      silentMs: Math.max(0, Date.now() - m.lastSeen),
    })),
  });
  const { server, port } = await startGrpcServer(o.host, o.port, {
    log,
    status,
    access: { token: o.security.token, requireClientCertificate: o.security.tls.ca !== undefined, onRefused: () => metrics.refused('unauthenticated') },
    credentials,
    dataset: { sha256: run.dataset.sha256, pack: () => (packed ??= packDataset(run.dataset)), transfers: new ConcurrencyLimit(o.maxDatasetTransfers) },
    session: {
      runId: o.runId,
      membership,
      scheduler,
      weights,
      gradientSpecs,
      gradientDtype: dtype,
      maxTensorBytes: MAX_TENSOR_BYTES,
      log,
      refusals: new RepeatedLines(log),
      traffic,
      joinRate: new RateLimit(o.maxJoinsPerSecond),
      onRefused: (kind) => metrics.refused(kind),
      welcome: {
        runId: o.runId,
        modelTopologyJson: JSON.stringify(run.model.toJSON(null, false)),
        dataset: {
          name: run.dataset.name,
          sha256: run.dataset.sha256,
          height: run.dataset.shape.height,
          width: run.dataset.shape.width,
          channels: run.dataset.shape.channels,
          numClasses: run.dataset.numClasses,
          trainCount: run.dataset.train.count,
        },
        augmentShift: o.augment?.shift ?? 0,
        augmentRotate: o.augment?.rotate ?? 0,
        heartbeatIntervalMs: heartbeats.intervalMs,
        microBatch: o.microBatch,
        topkRatio: o.compress === 'topk' ? o.topkRatio : 0,
        wholeGradients: o.gradientParts === 'whole',
        acknowledgeWeights: o.broadcast !== 'together',
      },
    },
  });
  log.info(`listening on ${o.host}:${port} for run ${o.runId}; waiting for ${o.minWorkers} worker(s)`);
  const snapshot = () => ({
    status: status(),
    stepsPerEpoch: run.stepsPerEpoch,
    steps: history.steps,
    epochs: history.epochs,
    breakdown: history.breakdown,
    checkpoints: history.checkpoints,
  });
  const http =
    o.metricsPort === undefined
      ? undefined
      : await startHttpServer(o.host, o.metricsPort, { metrics, token: o.security.token, snapshot }).catch((err: unknown) => {
          // Nothing may keep the process alive after a failed start: it would hang after its error line.
          (server as grpc.Server).forceShutdown();
          trace.close();
          throw err;
        });
  if (http !== undefined) log.info(`dashboard on http://${o.host}:${http.port}/ and metrics on /metrics`);
  heartbeats.start();

  const shutdown = async (reason: string, outcome: RunOutcome) => {
    heartbeats.stop();
    scheduler.stop(reason);
    for (const m of membership.live()) m.link.endRun(reason, outcome);
    http?.server.close();
    trace.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  };
  const cpu = new CpuPerStep();
  const result = runTrainingSession({
    command,
    options: o,
    run,
    source: scheduler,
    validate: async (indices, at) => {
      const ema = run.update.ema;
      if (ema !== undefined) weights.setEvaluationWeights(ema.withAveragedWeights(() => readWeights(run.model)));
      return scheduler.validate({ ...at, indices, evaluationWeights: ema !== undefined });
    },
    workers: () => membership.live().length,
    onCheckpointWritten: (seconds) => {
      metrics.checkpointWritten(seconds);
      history.checkpointWritten(seconds);
    },
    callbacks: [
      // First, so that its clock reading is the end of the update.
      { onStepEnd: (s) => timeline.stepApplied({ applyMs: s.applySeconds * 1000, stepMs: s.seconds * 1000, warmup: s.warmup }, clockMs()) },
      cpu,
      metrics.callback(),
      history,
      {
        onTrainBegin: () => {
          // The weights may have come from a checkpoint: workers must get them first.
          scheduler.setWeightsVersion(weights.bump());
          live.state = 'training';
        },
        onEpochBegin: (epoch) => {
          live.epoch = epoch;
        },
        onStepEnd: (s) => {
          scheduler.setWeightsVersion(weights.bump());
          live.step = s.step;
          live.last = s;
        },
        onEpochEnd: (e) => {
          live.epochLogs = e;
        },
      },
    ],
    extraSummary: () => {
      const phases = timeline.perStep();
      return {
        compress: o.compress,
        bytes_sent: traffic.sent,
        bytes_received: traffic.received,
        model_parameters: run.model.countParams(),
        // Per step past the warm-up, along its critical path (trace.json has every step and worker).
        compute_ms: phases.compute,
        communication_ms: COMMUNICATION_PHASES.reduce((sum, k) => sum + phases[k], 0),
        phases_ms: phases,
        coordinator_cpu_ms: cpu.msPerStep(),
        broadcast: o.broadcast,
        ...(o.broadcast === 'auto' ? { broadcast_trials: broadcastTrials } : {}),
      };
    },
  }).then(
    async (r) => {
      live.state = 'done';
      await shutdown('training finished', 'finished');
      return r;
    },
    async (err: Error) => {
      live.state = 'failed';
      await shutdown(`training failed: ${err.message}`, 'stopped');
      throw err;
    },
  );
  return {
    port,
    result,
    traffic,
    metricsPort: http?.port,
    stop: async (reason) => {
      scheduler.stop(reason);
      await shutdown(reason, 'stopped');
      (server as grpc.Server).forceShutdown();
    },
  };
}
