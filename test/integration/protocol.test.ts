/**
 * A coordinator facing workers that break the rules: each bad message is
 * refused with a reason, the offender is dropped, its shard is recomputed by
 * an honest worker, and the run completes.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoordinatorHandle, startCoordinator } from '../../coordinator/coordinator';
import { startWorker, WorkerHandle } from '../../worker/worker';
import { LOCK_FILE } from '../../shared/io/run-directory';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import type { CoordinatorMessage, TensorSpecMsg } from '../../shared/wire/protocol';
import { elementCount } from '../../shared/wire/tensor-codec';
import { joinMessage, rawSession, replies } from '../helpers/raw-client';
import { tmpDir } from '../helpers/tmp';

describe('the coordinator under hostile workers', function () {
  this.timeout(300_000);
  let coordinator: CoordinatorHandle;
  let honest: WorkerHandle;
  const runId = 'hostile-test';
  const runDir = tmpDir();

  before(async () => {
    await useBackend('wasm');
    coordinator = await startCoordinator(
      coordinatorOptionsFor({ model: 'mlp', epochs: '1', maxSteps: '60', backend: 'wasm', runDir, runId, port: '0', maxWorkers: '8', minShardDeadline: '2' }),
    );
    honest = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), name: 'honest' });
  });

  after(() => honest.stop());

  it('refuses a worker that asks for another run, with the reason and INVALID_ARGUMENT', async () => {
    const s = rawSession(coordinator.port);
    s.write(joinMessage('some-other-run'));
    const { messages, error } = await replies(s);
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(messages[0].body, 'reject');
    assert.match(messages[0].reject!.reason, /asked for run 'some-other-run', this coordinator runs 'hostile-test'/);
  });

  it('refuses a worker that speaks another protocol version', async () => {
    const s = rawSession(coordinator.port);
    s.write(joinMessage(runId, 99));
    const { messages } = await replies(s);
    assert.match(messages[0].reject!.reason, /protocol version 99/);
  });

  it('refuses a session that does not start with join', async () => {
    const s = rawSession(coordinator.port);
    s.write({ runId, body: 'heartbeat', heartbeat: { unixMs: 1 } });
    const { messages } = await replies(s);
    assert.match(messages[0].reject!.reason, /expected join first, got heartbeat/);
  });

  /** Joins and answers the first assignment with a float32 gradient header for these tensors (a part of the gradient when `tensorIndices` is given). */
  function answerWithGradient(tensors: TensorSpecMsg[], tensorIndices?: number[]) {
    const s = rawSession(coordinator.port);
    const done = replies(s);
    s.write(joinMessage(runId));
    s.on('data', (m: CoordinatorMessage) => {
      if (m.body !== 'assignment') return;
      const a = m.assignment!;
      const totalBytes = tensors.reduce((n, t) => n + 4 * elementCount(t.shape), 0);
      s.write({
        runId,
        body: 'gradient',
        gradient: { step: a.step, weightsVersion: a.weightsVersion, shardId: a.shardId, count: 1, lossSum: 1, correct: 0, computeMs: 1, tensorIndices, tensors: { tensors, dtype: 'DTYPE_FLOAT32', totalBytes } },
      });
    });
    return done;
  }

  it('drops a worker that sends a gradient of the wrong shape; the run goes on', async () => {
    const { messages, error } = await answerWithGradient([{ name: 'x', shape: [3] }]);
    const stop = messages.find((m) => m.body === 'stop');
    assert.match(stop!.stop!.reason, /tensor set has 1 tensors, expected 6/);
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
  });

  const badParts: [string, number[], TensorSpecMsg[], RegExp][] = [
    ['names a tensor the model lacks', [6], [{ name: 'x', shape: [10] }], /gradient part names tensor 6, the model has 6/],
    ['lists its tensors out of order', [5, 4], [{ name: 'b', shape: [10] }, { name: 'k', shape: [100, 10] }], /gradient\.tensorIndices: not strictly increasing/],
    ['has a tensor of the wrong shape for its position', [5], [{ name: 'b', shape: [11] }], /tensor 0 \(.*\) has shape \[11\], expected \[10\]/],
  ];
  for (const [what, tensorIndices, tensors, reason] of badParts) {
    it(`drops a worker whose gradient part ${what}`, async () => {
      const { messages, error } = await answerWithGradient(tensors, tensorIndices);
      assert.match(messages.find((m) => m.body === 'stop')!.stop!.reason, reason);
      assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
    });
  }

  it('drops a worker that sends a chunk over 1 MiB (under the message limit) with INVALID_ARGUMENT', async () => {
    const s = rawSession(coordinator.port);
    const done = replies(s);
    s.write(joinMessage(runId));
    s.write({ runId, body: 'chunk', chunk: { offset: 0, data: Buffer.alloc(2 ** 20 + 1) } });
    const { error } = await done;
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error!.details, /chunk\.data: must hold 1 to 1048576 bytes/);
  });

  it('drops a worker that says it holds a weights version no run can reach', async () => {
    const s = rawSession(coordinator.port);
    const done = replies(s);
    s.write(joinMessage(runId));
    s.write({ runId, body: 'loaded', loaded: { version: 2 ** 60 } });
    const { error } = await done;
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error!.details, /loaded\.version: not a non-negative integer \(1152921504606847000\)/);
  });

  it('cuts off a message over the size limit with RESOURCE_EXHAUSTED', async () => {
    const s = rawSession(coordinator.port);
    const done = replies(s);
    s.write(joinMessage(runId));
    s.write({ runId, body: 'chunk', chunk: { offset: 0, data: Buffer.alloc(3 * 2 ** 20) } });
    const { error } = await done;
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it('still completes the run with the honest worker, and then gives its run directory up', async () => {
    const result = await coordinator.result;
    assert.equal(result.summary.steps_run, 60);
    assert.ok(result.summary.test_accuracy > 0.8);
    assert.equal(fs.existsSync(path.join(runDir, LOCK_FILE)), false);
    await honest.done;
  });
});

describe('a coordinator that cannot start', () => {
  it('says why and gives its run directory back for the next try', async function () {
    this.timeout(60_000);
    await useBackend('wasm');
    const runDir = tmpDir();
    const first = await startCoordinator(coordinatorOptionsFor({ model: 'mlp', epochs: '1', backend: 'wasm', runDir: tmpDir(), port: '0' }));
    try {
      await assert.rejects(startCoordinator(coordinatorOptionsFor({ model: 'mlp', epochs: '1', backend: 'wasm', runDir, port: String(first.port) })), /EADDRINUSE|address already in use|in use/i);
      assert.equal(fs.existsSync(path.join(runDir, LOCK_FILE)), false);
    } finally {
      await first.stop('test over');
      await first.result.catch(() => undefined);
    }
  });
});
