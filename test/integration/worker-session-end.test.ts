/**
 * A worker the coordinator has dropped does not compute the shards still
 * queued in its ended session: the coordinator has handed them to others,
 * and each pass can take seconds that the worker should spend coming back.
 *
 * The coordinator here is a stand-in that replays what a real one sent (so
 * the worker gets a true welcome, weights and assignment), queues two
 * shards and ends the session at once, as a coordinator dropping the worker
 * does: a `stop` message with the reason, then the end of the call.
 */
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { startCoordinator } from '../../coordinator/coordinator';
import { GradientComputer } from '../../shared/training/gradient-step';
import { CoordinatorMessage, protocol, SERVER_OPTIONS, StopMsg, WorkerMessage } from '../../shared/wire/protocol';
import { startWorker } from '../../worker/worker';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { levelledLogger } from '../helpers/line-log';
import { joinMessage, rawSession } from '../helpers/raw-client';
import { stopCoordinator } from '../helpers/stop-coordinator';
import { tmpDir } from '../helpers/tmp';

const runId = 'session-end-test';

/** What a real coordinator sends a joining worker, up to and including its first training assignment. */
async function recordFirstAssignment(): Promise<CoordinatorMessage[]> {
  const coordinator = await startCoordinator(coordinatorOptionsFor({ model: 'mlp', epochs: '1', maxSteps: '1', backend: 'wasm', runDir: tmpDir(), runId, port: '0' }));
  const s = rawSession(coordinator.port);
  const messages: CoordinatorMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    s.on('data', (m: CoordinatorMessage) => {
      messages.push(m);
      if (m.body === 'assignment' && m.assignment!.task === 'TASK_TRAIN') resolve();
    });
    s.on('error', reject);
    s.write(joinMessage(runId));
  });
  s.cancel();
  await stopCoordinator(coordinator, 'recorded');
  return messages;
}

/**
 * A coordinator stand-in: the first session gets `script`, then is ended or
 * left open. `gradient` resolves when a gradient comes back on it,
 * `reconnected` when the worker dials again.
 */
async function scriptedCoordinator(script: CoordinatorMessage[], then: 'end' | 'stay open') {
  let sessions = 0;
  let reconnect!: () => void;
  let answer!: () => void;
  const reconnected = new Promise<void>((resolve) => (reconnect = resolve));
  const gradient = new Promise<void>((resolve) => (answer = resolve));
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(protocol().Training.service, {
    Session(call: grpc.ServerDuplexStream<WorkerMessage, CoordinatorMessage>) {
      call.on('error', () => undefined);
      if (++sessions > 1) {
        reconnect();
        return;
      }
      call.once('data', () => {
        for (const m of script) call.write(m);
        if (then === 'end') call.end();
        call.on('data', (m: WorkerMessage) => m.body === 'gradient' && answer());
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, gradient, reconnected, stop: () => server.forceShutdown() };
}

describe('a worker whose session the coordinator ends', function () {
  this.timeout(120_000);
  const passes = { count: 0 };
  const originals = { compute: GradientComputer.prototype.compute, computeStreamed: GradientComputer.prototype.computeStreamed };

  before(async () => {
    await useBackend('wasm');
    GradientComputer.prototype.compute = function (...args) {
      passes.count++;
      return originals.compute.apply(this, args);
    };
    GradientComputer.prototype.computeStreamed = function (...args) {
      passes.count++;
      return originals.computeStreamed.apply(this, args);
    };
  });

  after(() => Object.assign(GradientComputer.prototype, originals));

  it('skips the shards still queued in it, and dials again', async () => {
    const recorded = await recordFirstAssignment();
    const assignment = recorded.at(-1)!;
    const another: CoordinatorMessage = { ...assignment, assignment: { ...assignment.assignment!, shardId: assignment.assignment!.shardId + 1 } };
    const coordinator = await scriptedCoordinator([...recorded, another, { body: 'stop', stop: { reason: 'missed its shard deadline', scope: 'STOP_WORKER_DROPPED' } }], 'end');
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), name: 'dropped' });
    try {
      await coordinator.reconnected;
      assert.equal(passes.count, 0, 'no pass was computed for the two shards queued in the ended session');
    } finally {
      worker.stop();
      coordinator.stop();
    }
  });

  describe('tells apart why the session ended', () => {
    /** A worker whose first session is answered with `stop` alone; what it logged by the time it dialled again or ended. */
    async function endedWith(stop: StopMsg): Promise<{ warn: string[]; info: string[]; outcome: 'dialled again' | 'ended' }> {
      const coordinator = await scriptedCoordinator([{ body: 'stop', stop }], 'end');
      const { log, warn, info } = levelledLogger();
      const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), log });
      try {
        const outcome = await Promise.race([coordinator.reconnected.then(() => 'dialled again' as const), worker.done.then(() => 'ended' as const)]);
        return { warn, info, outcome };
      } finally {
        worker.stop();
        coordinator.stop();
      }
    }

    it('a dropped worker warns and rejoins', async () => {
      const r = await endedWith({ reason: 'missed heartbeats', scope: 'STOP_WORKER_DROPPED' });
      assert.equal(r.outcome, 'dialled again');
      assert.deepEqual(r.warn, ['the coordinator dropped this worker (missed heartbeats); rejoining']);
    });

    it('a worker whose coordinator stopped the run unfinished waits for it to be resumed, without a warning', async () => {
      const r = await endedWith({ reason: 'interrupted', scope: 'STOP_RUN_STOPPED' });
      assert.equal(r.outcome, 'dialled again');
      assert.deepEqual(r.warn, []);
      assert.ok(r.info.includes('the coordinator stopped the run (interrupted); waiting for it to be resumed'), r.info.join('\n'));
    });

    it('a worker whose run finished ends', async () => {
      const r = await endedWith({ reason: 'training finished', scope: 'STOP_RUN_FINISHED' });
      assert.equal(r.outcome, 'ended');
      assert.ok(r.info.includes('the run has finished'));
    });
  });

  it('computes a shard whose session goes on (so the count above would see a pass)', async () => {
    const recorded = await recordFirstAssignment();
    const coordinator = await scriptedCoordinator(recorded, 'stay open');
    passes.count = 0;
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), name: 'kept' });
    try {
      await coordinator.gradient;
      assert.equal(passes.count, 1);
    } finally {
      worker.stop();
      coordinator.stop();
    }
  });
});
