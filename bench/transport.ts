/**
 * `npm run bench:transport`: what the gRPC transport alone costs on this
 * machine: 1 MiB chunks echoed over a Session stream on loopback, in one
 * process, with the same channel options, server windows and message types
 * as the cluster.
 */
import * as grpc from '@grpc/grpc-js';
import { widenConnectionWindows, widenStreamWindow } from '../coordinator/grpc/flow-control';
import { getLogger } from '../shared/logging';
import { CHANNEL_OPTIONS, CoordinatorMessage, FLOW_CONTROL_WINDOW, protocol, WorkerMessage } from '../shared/wire/protocol';
import { MAX_CHUNK_BYTES } from '../shared/wire/tensor-codec';
import { machineLine, updateSection } from './report';

async function main(): Promise<void> {
  const v1 = protocol();
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const log = getLogger({ component: 'bench' });
  widenStreamWindow(server, FLOW_CONTROL_WINDOW, log);
  server.addService(v1.Training.service, {
    Session: (call: grpc.ServerDuplexStream<WorkerMessage, CoordinatorMessage>) => {
      call.on('data', (m: WorkerMessage) => call.write({ body: 'chunk', chunk: m.chunk! }));
      call.on('end', () => call.end());
    },
    FetchDataset: () => undefined,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  widenConnectionWindows(server, FLOW_CONTROL_WINDOW, log);
  const client = new v1.Training(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as {
    Session(): grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage>;
    close(): void;
  };
  const call = client.Session();
  call.on('error', () => undefined);
  const data = Buffer.alloc(MAX_CHUNK_BYTES, 7);
  const warmup = 10;
  const timed = 100;
  let received = 0;
  let start = 0n;
  const ms = await new Promise<number>((resolve) => {
    call.on('data', () => {
      received++;
      if (received === warmup) start = process.hrtime.bigint();
      if (received === warmup + timed) return resolve(Number(process.hrtime.bigint() - start) / 1e6 / timed);
      call.write({ runId: '', body: 'chunk', chunk: { offset: 0, data } });
    });
    call.write({ runId: '', body: 'chunk', chunk: { offset: 0, data } });
  });
  call.end();
  client.close();
  server.forceShutdown();
  updateSection(
    'transport',
    `## The transport alone

One 1 MiB chunk to the server and back on a gRPC Session stream over loopback, both ends in one process, one at
a time: **${ms.toFixed(2)} ms per round trip** (${((2 * 1000) / ms).toFixed(0)} MiB/s each way).
Machine: ${machineLine()}. Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:transport\`.`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
