/**
 * Only the run's own workers get in: a shared token checked on every RPC,
 * and mutual TLS with certificates the test makes itself. Whoever is
 * refused gets UNAUTHENTICATED and never a weight or a byte of data.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CoordinatorHandle } from '../../coordinator/coordinator';
import { startCoordinator } from '../../coordinator/coordinator';
import { queryStatus } from '../../coordinator/status-client';
import { channelCredentials } from '../../shared/security/tls';
import { startWorker } from '../../worker/worker';
import { useBackend } from '../helpers/backends';
import { Certificates, makeCertificates, opensslUnavailable } from '../helpers/certificates';
import { runCli } from '../helpers/cli';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { joinMessage, rawFetch, rawSession, replies } from '../helpers/raw-client';
import { stopCoordinator } from '../helpers/stop-coordinator';
import { tmpDir } from '../helpers/tmp';
import { tokenFile } from '../helpers/token-file';
import { skipIfMissing } from '../helpers/skip';

const TOKEN = 'correct-horse-battery-staple-0123';
const TRAINING = { model: 'mlp', epochs: '1', maxSteps: '5', backend: 'wasm', port: '0', emaDecay: '0' };

describe('a coordinator with a token', function () {
  this.timeout(120_000);
  let coordinator: CoordinatorHandle;
  const runId = 'token-test';

  before(async () => {
    await useBackend('wasm');
    coordinator = await startCoordinator(coordinatorOptionsFor({ ...TRAINING, runId, runDir: tmpDir(), tokenFile: tokenFile(TOKEN) }));
  });
  after(() => coordinator.stop('test over'));

  for (const [who, token] of [
    ['a worker with no token', undefined],
    ['a worker with a wrong token', 'correct-horse-battery-staple-9999'],
  ] as const) {
    it(`refuses ${who} with UNAUTHENTICATED: no welcome, no weights, no data`, async () => {
      const session = rawSession(coordinator.port, { token });
      const answer = replies(session);
      session.write(joinMessage(runId));
      const { messages, error } = await answer;
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
      assert.deepEqual(messages, []);
      const fetch = await replies(rawFetch(coordinator.port, { runId, sha256: '0'.repeat(64) }, { token }));
      assert.equal(fetch.error?.code, grpc.status.UNAUTHENTICATED);
      assert.deepEqual(fetch.messages, []);
      await assert.rejects(queryStatus(`127.0.0.1:${coordinator.port}`, 5000, { token, tls: {} }), /refused the request: (no token|wrong token)/);
    });
  }

  it('a worker started without the token stops with a one-line error instead of retrying forever', async () => {
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir() });
    await assert.rejects(worker.done, /refused this worker's credentials: no token/);
  });

  it('lets in a worker with the token, which trains the run to its end', async () => {
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), security: { token: TOKEN, tls: {} } });
    const summary = await coordinator.result;
    await worker.done;
    assert.ok(fs.existsSync(summary.summaryPath));
  });
});

describe('a coordinator with mutual TLS', function () {
  this.timeout(120_000);
  let certs: Certificates;
  let coordinator: CoordinatorHandle;
  const runId = 'mtls-test';

  before(async function () {
    skipIfMissing(this, opensslUnavailable());
    certs = makeCertificates(tmpDir());
    await useBackend('wasm');
    coordinator = await startCoordinator(
      coordinatorOptionsFor({ ...TRAINING, runId, runDir: tmpDir(), tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsCa: certs.ca }),
    );
  });
  after(async () => {
    // Run alone (mocha -g) the training case has not ended the run.
    if (coordinator !== undefined) await stopCoordinator(coordinator);
  });

  it('refuses a client certificate from another CA with UNAUTHENTICATED, and sends it nothing', async () => {
    const credentials = channelCredentials({ ca: certs.ca, cert: certs.rogueCert, key: certs.rogueKey });
    const session = rawSession(coordinator.port, { credentials });
    const answer = replies(session);
    session.write(joinMessage(runId));
    const { messages, error } = await answer;
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    assert.match(error!.details, /no client certificate signed by the run’s CA/);
    assert.deepEqual(messages, []);
  });

  it('refuses a TLS client with no certificate at all', async () => {
    const session = rawSession(coordinator.port, { credentials: channelCredentials({ ca: certs.ca }) });
    const answer = replies(session);
    session.write(joinMessage(runId));
    assert.equal((await answer).error?.code, grpc.status.UNAUTHENTICATED);
  });

  it('trains with a worker holding a certificate the run’s CA signed', async () => {
    const worker = startWorker({
      coordinator: `127.0.0.1:${coordinator.port}`,
      backend: 'wasm',
      dataDir: tmpDir(),
      cacheDir: tmpDir(),
      security: { token: undefined, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } },
    });
    await coordinator.result;
    await worker.done;
  });
});

describe('the token as a secret', function () {
  this.timeout(120_000);

  it('appears nowhere in the run directory or the output of a run that uses it', () => {
    const runDir = path.join(tmpDir(), 'run');
    const r = runCli(['local', '--workers', '1', '--model', 'mlp', '--max-steps', '5', '--backend', 'wasm', '--token-file', tokenFile(TOKEN), '--run-dir', runDir, '--log-level', 'debug']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(TOKEN), 'not in the logs');
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const f of files(runDir)) assert.ok(!fs.readFileSync(f).includes(TOKEN), `not in ${path.relative(runDir, f)}`);
    assert.match(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'), /"token": "\(redacted\)"/);
  });
});

describe('where the coordinator may listen', () => {
  it('refuses 0.0.0.0 without a token, with a one-line error and exit code 2', () => {
    const r = runCli(['coordinator', '--host', '0.0.0.0', '--port', '0', '--model', 'mlp']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^gradfleet: error: refusing to listen on 0\.0\.0\.0 without a token: .*--insecure.*\n$/);
  });
});
