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
import { RunFailedError, UserError } from '../shared/errors';
import { getLogger, Logger } from '../shared/logging';
import type { ConnectionSecurity } from '../shared/security/connection-security';
import { channelCredentials } from '../shared/security/tls';
import { tokenMetadata } from '../shared/security/token';
import { clockMs } from '../shared/observability/clock';
import { GradientComputer } from '../shared/training/gradient-step';
import { evaluate } from '../shared/training/evaluation';
import { CoordinatorMessage, DatasetChunkMsg, PROTOCOL_VERSION, protocol, StopScope, WelcomeMsg, wireDType } from '../shared/wire/protocol';
import { connectionFailure } from '../shared/wire/connection-error';
import { TopKCompressor } from '../shared/wire/top-k';
import { backoffDelay, BackoffPolicy, DEFAULT_BACKOFF } from './backoff';
import { obtainDataset } from './dataset-cache';
import { OutageLog } from './outage-log';
import { pauseBeforeRedial, redialChannelOptions } from './redial';
import type { RunState } from './run-state';
import { computeAndSend, gradientSizes, handedOver, Session, validateAndSend, writeAll } from './shard-work';
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
  /** Where the worker logs; the process's logger, tagged with the worker's name, when absent. */
  log?: Logger;
  /**
   * Gives up once no coordinator has answered for this long (Flower's client
   * `max_wait_time`): a batch job's workers then end and free their GPUs when
   * the coordinator is gone for good. Absent: wait for ever.
   */
  maxWaitMs?: number;
  /** How soon a lost coordinator is dialled again; DEFAULT_BACKOFF when absent. */
  reconnect?: BackoffPolicy;
  /** Benchmarks only: answer each shard after this many ms with a fixed small-noise gradient instead of computing. */
  simulateComputeMs?: number;
}

export interface WorkerHandle {
  /** Resolves when the run has finished; rejects on an error the worker cannot retry. */
  done: Promise<void>;
  stop(): void;
}


/** The coordinator ended the session: `scope` says whether for this worker only or for the run, and how. */
class SessionOver extends Error {
  constructor(
    message: string,
    readonly scope: StopScope | 'refused',
  ) {
    super(message);
  }
}

const MAX_WEIGHTS_BYTES = 1024 * 2 ** 20;

export function startWorker(o: WorkerOptions): WorkerHandle {
  const name = o.name ?? `${os.hostname()}-${process.pid}`;
  const log = o.log ?? getLogger({ component: 'worker', workerId: name });
  if (o.gpu !== undefined) selectGpu(o.gpu);
  const v1 = protocol();
  const security = o.security ?? { token: undefined, tls: {} };
  const reconnect = o.reconnect ?? DEFAULT_BACKOFF;
  const client = new v1.Training(o.coordinator, channelCredentials(security.tls), redialChannelOptions(reconnect)) as unknown as Pick<grpc.Client, 'close' | 'getChannel' | 'waitForReady'> & {
    Session(metadata: grpc.Metadata): Session;
    FetchDataset(req: { runId: string; sha256: string }, metadata: grpc.Metadata): grpc.ClientReadableStream<DatasetChunkMsg>;
  };
  const credentials = () => tokenMetadata(new grpc.Metadata(), security.token);
  let stopped = false;
  let call: Session | undefined;
  let state: RunState | undefined;
  let backendName = '';

  const setUp = async (welcome: WelcomeMsg): Promise<RunState> => {
    if (state !== undefined && state.runId === welcome.runId && state.topology === welcome.modelTopologyJson) return state;
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
    if (dtype === 'topk' && !(welcome.topkRatio > 0 && welcome.topkRatio <= 1)) throw new SessionOver(`the coordinator asked for top-k gradients with ratio ${welcome.topkRatio}`, 'refused');
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
    session.write({ runId: o.runId ?? '', body: 'join', join: { protocolVersion: PROTOCOL_VERSION, runId: o.runId ?? '', workerName: name, backend: backendName } });
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
            onWelcome();
            log.info(`joined run ${w.runId} as ${w.workerId} (backend ${backendName})`);
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
            throw new SessionOver(`the coordinator refused this worker: ${msg.reject!.reason}`, 'refused');
          case 'stop':
            throw new SessionOver(msg.stop!.reason, msg.stop!.scope);
          default:
            break;
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
  };

  const done = (async () => {
    // Before the first dial: a backend that cannot load is this host's problem, which redialling never fixes,
    // and the coordinator is told the backend that runs ('wasm', not 'auto').
    backendName = (await initBackend(o.backend)).name;
    // CUDA_VISIBLE_DEVICES reaches libtensorflow only; on any other backend a user who spread workers over GPUs would not know they share the CPU.
    if (o.gpu !== undefined && backendName !== 'tensorflow-gpu') log.warn(`--gpu ${o.gpu} has no effect: it selects a CUDA device for the tensorflow-gpu backend, and this worker runs ${backendName}`);
    let attempt = 0;
    const outage = new OutageLog(log, o.coordinator);

    /** What the end of a session means: the run finished, or a redial; a refusal that redialling cannot mend is thrown. */
    const afterSession = (err: unknown): 'finished' | 'redial' => {
      if (err instanceof SessionOver) {
        if (err.scope === 'STOP_RUN_FINISHED') {
          log.info('the run has finished');
          return 'finished';
        }
        if (err.scope === 'refused') throw new UserError(err.message);
        if (err.scope === 'STOP_RUN_STOPPED') {
          log.info(`the coordinator stopped the run (${err.message}); waiting for it to be resumed`);
          outage.expectAbsence();
        } else log.warn(`the coordinator dropped this worker (${err.message}); rejoining`);
        return 'redial';
      }
      const { code, details, message } = err as Partial<grpc.ServiceError> & Error;
      if (code === grpc.status.UNAUTHENTICATED) throw new UserError(`the coordinator at ${o.coordinator} refused this worker's credentials: ${details}`);
      if (stopped) return 'redial';
      // A worker that was ever welcomed holds its run's state: it lost the coordinator rather than never reaching it.
      const how = code === grpc.status.RESOURCE_EXHAUSTED ? 'turned away' : state !== undefined ? 'lost' : 'unreachable';
      outage.failed(details ? connectionFailure(details) : message.split('\n')[0], how);
      if (o.maxWaitMs !== undefined && outage.lastedMs() >= o.maxWaitMs) {
        throw new RunFailedError(`no coordinator at ${o.coordinator} for ${Math.round(outage.lastedMs() / 1000)} s (--max-wait ${o.maxWaitMs / 1000}); this worker gives up`);
      }
      return 'redial';
    };

    try {
      while (!stopped) {
        try {
          await runSession(() => {
            attempt = 0;
            outage.recovered();
          });
          log.warn('the coordinator closed the session; reconnecting');
        } catch (err) {
          if (afterSession(err) === 'finished') break;
        }
        if (stopped) break;
        await pauseBeforeRedial(client, backoffDelay(attempt++, reconnect));
      }
    } finally {
      client.close();
    }
  })();

  return {
    done,
    stop: () => {
      stopped = true;
      call?.cancel();
    },
  };
}
