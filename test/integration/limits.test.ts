/**
 * Each limit a stranger could push against answers with RESOURCE_EXHAUSTED
 * and a reason, and the coordinator goes on serving the workers it has.
 */
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { CoordinatorHandle, startCoordinator } from '../../coordinator/coordinator';
import { queryStatus } from '../../coordinator/status-client';
import type { CoordinatorMessage } from '../../shared/wire/protocol';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { joinMessage, rawFetch, rawSession, replies, Session } from '../helpers/raw-client';
import { stopCoordinator } from '../helpers/stop-coordinator';
import { tmpDir } from '../helpers/tmp';

/** The first message the coordinator sends on a session, or the status that ended it. */
function firstAnswer(session: Session): Promise<CoordinatorMessage | grpc.ServiceError> {
  return new Promise((resolve) => {
    session.once('data', resolve);
    session.once('error', resolve);
  });
}

describe('limits on what a client can ask of the coordinator', function () {
  this.timeout(120_000);
  const runId = 'limits-test';
  let coordinator: CoordinatorHandle;
  let member: Session;
  let welcome: CoordinatorMessage;

  before(async () => {
    await useBackend('wasm');
    // A run that never trains (it needs more workers than it lets in, which the command line refuses): these limits meet an idle coordinator.
    coordinator = await startCoordinator({
      ...coordinatorOptionsFor({ model: 'mlp', backend: 'wasm', port: '0', runId, runDir: tmpDir(), maxWorkers: '1', maxJoinsPerSecond: '1', maxDatasetTransfers: '1' }),
      minWorkers: 2,
    });
    member = rawSession(coordinator.port);
    member.on('error', () => undefined);
    member.write(joinMessage(runId));
    welcome = (await firstAnswer(member)) as CoordinatorMessage;
    assert.equal(welcome.body, 'welcome');
  });

  after(async () => {
    member.cancel();
    await stopCoordinator(coordinator);
  });

  it('refuses a worker beyond --max-workers', async () => {
    const s = rawSession(coordinator.port);
    s.write(joinMessage(runId));
    const { error } = await replies(s);
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(error!.details, /maximum of 1 workers/);
  });

  it('refuses joins faster than --max-joins-per-second', async () => {
    const s = rawSession(coordinator.port);
    s.write(joinMessage(runId));
    const { error } = await replies(s);
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(error!.details, /too many joins: at most 1 per second/);
  });

  it('refuses dataset transfers beyond --max-dataset-transfers at once', async () => {
    const request = { runId, sha256: welcome.welcome!.dataset!.sha256 };
    const results = await Promise.all([1, 2, 3, 4].map(() => replies(rawFetch(coordinator.port, request))));
    const refused = results.filter((r) => r.error?.code === grpc.status.RESOURCE_EXHAUSTED);
    const served = results.filter((r) => r.error === undefined);
    assert.ok(served.length >= 1 && refused.length >= 1, `${served.length} served, ${refused.length} refused`);
    assert.match(refused[0].error!.details, /1 dataset transfers are running/);
  });

  it('keeps serving the member it has', async () => {
    member.write({ runId, body: 'heartbeat', heartbeat: { unixMs: Date.now() } });
    await new Promise((r) => setTimeout(r, 200));
    const status = await queryStatus(`127.0.0.1:${coordinator.port}`);
    assert.equal(status.workers.length, 1);
  });

  it('tells `gradfleet status` that the run waits for workers (1 of --min-workers 2), not that it trains', async () => {
    const status = await queryStatus(`127.0.0.1:${coordinator.port}`);
    assert.deepEqual([status.state, status.step], ['waiting for workers', 0]);
  });
});
