/**
 * Fuzzing every RPC of a live coordinator through a real gRPC client: random
 * bytes and mutated valid messages as Session streams, dataset requests and
 * status requests. The coordinator must answer or drop each call, never
 * fail internally, never hang a call, keep its memory bounded, and then
 * still train a real run to the accuracy of an undisturbed one.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { CoordinatorHandle, startCoordinator } from '../../coordinator/coordinator';
import { queryStatus } from '../../coordinator/status-client';
import { addLogTransport } from '../../shared/logging';
import { readSummary } from '../../shared/training/run-summary';
import { PROTO_FILE, PROTOCOL_VERSION } from '../../shared/wire/protocol';
import { startWorker } from '../../worker/worker';
import { useBackend } from '../helpers/backends';
import { runCli } from '../helpers/cli';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { fuzzCount, mutations } from '../helpers/fuzz';
import { LineLog } from '../helpers/line-log';
import { tmpDir } from '../helpers/tmp';
import { tokenFile } from '../helpers/token-file';

export const rpcInputs = fuzzCount(1000);
const TOKEN = 'fuzzing-token-0123456789abcdef';
const TRAINING = { model: 'mlp', epochs: '1', backend: 'wasm', seed: '9', emaDecay: '0', microBatch: '16' };

const bytesOnly = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (p: string, requestStream: boolean, responseStream: boolean) => ({
  path: p,
  requestStream,
  responseStream,
  requestSerialize: bytesOnly.serialize,
  requestDeserialize: bytesOnly.deserialize,
  responseSerialize: bytesOnly.serialize,
  responseDeserialize: bytesOnly.deserialize,
});
const RawClient = grpc.makeGenericClientConstructor(
  {
    Session: method('/gradfleet.v1.Training/Session', true, true),
    FetchDataset: method('/gradfleet.v1.Training/FetchDataset', false, true),
    Status: method('/gradfleet.v1.Operator/Status', false, false),
  },
  'RawFuzzClient',
);

/** Valid encodings of each kind of message a client may send, to mutate. */
function seeds(runId: string): Buffer[] {
  const root = protobuf.loadSync(PROTO_FILE);
  const worker = root.lookupType('gradfleet.v1.WorkerMessage');
  const enc = (type: protobuf.Type, value: object) => Buffer.from(type.encode(type.fromObject(value)).finish());
  return [
    enc(worker, { runId, join: { protocolVersion: PROTOCOL_VERSION, runId, workerName: 'fuzz', backend: 'wasm' } }),
    enc(worker, { runId, heartbeat: { unixMs: 1 } }),
    enc(worker, { runId, loaded: { version: 3 } }),
    enc(worker, {
      runId,
      gradient: { step: 0, weightsVersion: 1, shardId: 0, count: 16, lossSum: 3, correct: 2, computeMs: 1, tensors: { tensors: [{ name: 'dense/kernel', shape: [784, 300] }], dtype: 3, totalBytes: 8 } },
    }),
    enc(worker, { runId, chunk: { offset: 0, data: Buffer.alloc(64, 7) } }),
    enc(root.lookupType('gradfleet.v1.DatasetRequest'), { runId, sha256: 'ab'.repeat(32) }),
  ];
}

function settle(call: grpc.ClientDuplexStream<Buffer, Buffer> | grpc.ClientReadableStream<Buffer>, ms: number): Promise<'ended' | 'cut'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      call.cancel();
      resolve('cut');
    }, ms);
    call.on('data', () => undefined);
    call.on('error', () => (clearTimeout(timer), resolve('ended')));
    call.on('end', () => (clearTimeout(timer), resolve('ended')));
  });
}

describe('fuzz: every RPC of a live coordinator', function () {
  this.timeout(900_000);
  const runId = 'fuzz-run';
  let coordinator: CoordinatorHandle;
  const errors = new LineLog('error');
  let removeLog: () => void;

  before(async () => {
    await useBackend('wasm');
    removeLog = addLogTransport(errors);
    const tokenPath = tokenFile(TOKEN);
    coordinator = await startCoordinator(
      coordinatorOptionsFor({ ...TRAINING, runId, runDir: tmpDir(), port: '0', tokenFile: tokenPath, maxJoinsPerSecond: '100000', maxWorkers: '64' }),
    );
  });
  after(() => removeLog());

  it(`answers ${rpcInputs} random and mutated calls without an internal error, a hung call or unbounded memory`, async () => {
    const client = new RawClient(`127.0.0.1:${coordinator.port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 }) as unknown as {
      Session(md: grpc.Metadata): grpc.ClientDuplexStream<Buffer, Buffer>;
      FetchDataset(req: Buffer, md: grpc.Metadata): grpc.ClientReadableStream<Buffer>;
      Status(req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void): void;
      close(): void;
    };
    const valid = seeds(runId);
    const md = () => {
      const m = new grpc.Metadata();
      m.set('authorization', `Bearer ${TOKEN}`);
      return m;
    };
    const inputs = [...mutations(11, valid, rpcInputs)];
    const rssBefore = process.memoryUsage().rss;
    let cut = 0;
    for (let i = 0; i < inputs.length; i += 50) {
      await Promise.all(
        inputs.slice(i, i + 50).map(async (bytes, k) => {
          const which = (i + k) % 10;
          if (which < 7) {
            const call = client.Session(md());
            const done = settle(call, 500);
            if (which < 3) call.write(valid[0]);
            call.write(bytes);
            call.end();
            if ((await done) === 'cut') cut++;
          } else if (which < 9) {
            await settle(client.FetchDataset(bytes, md()), 3000);
          } else {
            await new Promise<void>((resolve) => client.Status(bytes, md(), { deadline: Date.now() + 3000 }, () => resolve()));
          }
        }),
      );
    }
    client.close();
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`      ${inputs.length} calls; ${cut} sessions still open after 0.5 s (joined and waiting, as a worker would); rss +${grownMiB.toFixed(0)} MiB`);
    assert.deepEqual(errors.lines, []);
    assert.ok(grownMiB < 512, `memory grew by ${grownMiB} MiB`);
    const status = await queryStatus(`127.0.0.1:${coordinator.port}`, 5000, { token: TOKEN, tls: {} });
    assert.equal(status.runId, runId);
  });

  it('then trains a real run to exactly the test accuracy of an undisturbed one', async () => {
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), security: { token: TOKEN, tls: {} } });
    const result = await coordinator.result;
    await worker.done;
    const fuzzed = JSON.parse(fs.readFileSync(result.summaryPath, 'utf8'));
    const baselineDir = tmpDir();
    const flags = Object.entries(TRAINING).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
    assert.equal(runCli(['baseline', ...flags, '--run-dir', baselineDir]).code, 0);
    const undisturbed = readSummary(baselineDir);
    assert.equal(fuzzed.test_accuracy, undisturbed.test_accuracy);
    assert.ok(fuzzed.test_accuracy > 0.85);
  });
});
