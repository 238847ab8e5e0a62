/**
 * A worker that lost its coordinator finds it again soon after it is back,
 * however long it was away. gRPC's channel backs off on its own (1 s growing
 * by 1.6× to 120 s) and fails calls at once while it waits, so a channel
 * left to its defaults fails the worker's dials for seconds (minutes, after
 * a long outage) against an open port; and a worker sitting out a long
 * backoff delay should not sit it out once the coordinator answers.
 */
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { protocol, SERVER_OPTIONS } from '../../shared/wire/protocol';
import { startWorker } from '../../worker/worker';
import { lineLogger } from '../helpers/line-log';
import { fixedPort } from '../helpers/processes';

/** A coordinator stand-in on `port`; `dialled` resolves at the first session that reaches it. */
async function listenOn(port: number) {
  let reached!: () => void;
  const dialled = new Promise<void>((resolve) => (reached = resolve));
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(protocol().Training.service, {
    Session(call: grpc.ServerDuplexStream<unknown, unknown>) {
      call.on('error', () => undefined);
      reached();
    },
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return { dialled, stop: () => server.forceShutdown() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a worker whose coordinator is away', function () {
  this.timeout(60_000);

  it("dials it again at the worker's backoff once it is back, not at gRPC's grown one", async () => {
    const port = fixedPort(9);
    const { log, lines } = lineLogger('debug');
    const failedDials = () => lines.filter((l) => l.startsWith('cannot reach the coordinator')).length;
    const reconnect = { initialMs: 50, maxMs: 200, multiplier: 2 };
    const worker = startWorker({ coordinator: `127.0.0.1:${port}`, backend: 'wasm', dataDir: 'unused', cacheDir: 'unused', reconnect, log });
    worker.done.catch(() => undefined);
    try {
      // Six seconds away: gRPC's own backoff has reached its 4th wait (about 4.2 s) by then.
      await sleep(6_000);
      const failedWhileAway = failedDials();
      const coordinator = await listenOn(port);
      await coordinator.dialled;
      const failedAfterReturn = failedDials() - failedWhileAway;
      coordinator.stop();
      assert.ok(failedWhileAway >= 10, `the worker should keep dialling while the coordinator is away (${failedWhileAway} dials failed)`);
      // A dial already under way when the port opened may still fail; gRPC's backoff would fail a dozen or more.
      assert.ok(failedAfterReturn <= 3, `${failedAfterReturn} dials failed against the open port before one got through`);
    } finally {
      worker.stop();
    }
  });

  it('dials it as soon as it answers, without sitting out the rest of a long backoff delay', async () => {
    const port = fixedPort(10);
    const { log, lines } = lineLogger('debug');
    // Every wait between dials 15-30 s: the worker's first failed dial starts one.
    const reconnect = { initialMs: 30_000, maxMs: 30_000, multiplier: 2 };
    const worker = startWorker({ coordinator: `127.0.0.1:${port}`, backend: 'wasm', dataDir: 'unused', cacheDir: 'unused', reconnect, log });
    worker.done.catch(() => undefined);
    try {
      while (!lines.some((l) => l.startsWith('cannot reach the coordinator'))) await sleep(20);
      const failedAt = Date.now();
      await sleep(2_000);
      const coordinator = await listenOn(port);
      const outcome = await Promise.race([coordinator.dialled.then(() => 'dialled'), sleep(15_000 - (Date.now() - failedAt)).then(() => 'waited out its delay')]);
      coordinator.stop();
      assert.equal(outcome, 'dialled');
      assert.equal(lines.filter((l) => l.startsWith('cannot reach the coordinator')).length, 1);
    } finally {
      worker.stop();
    }
  });
});
