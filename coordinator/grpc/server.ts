/**
 * The coordinator's gRPC server: wires the services of proto/gradfleet.proto
 * to their adapters and binds the address. Worker sessions live in
 * worker-session.ts; the dataset transfer and status are small enough to be
 * here.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import { checkDatasetRequest } from '../../shared/wire/incoming';
import { MAX_CHUNK_BYTES, WireFormatError } from '../../shared/wire/tensor-codec';
import type { ConcurrencyLimit } from '../admission';
import { AccessPolicy, accessGuard } from './access-guard';
import { endWithStatus } from './end-call';
import { widenConnectionWindows, widenStreamWindow } from './flow-control';
import { DatasetChunkMsg, DatasetRequestMsg, FLOW_CONTROL_WINDOW, protocol, SERVER_OPTIONS, StatusReplyMsg } from '../../shared/wire/protocol';
import { handleWorkerSession, SessionContext } from './worker-session';

export interface ServerDeps {
  session: SessionContext;
  /** The packed dataset (built on first request) and its identity. */
  dataset: { sha256: string; pack: () => Buffer; transfers: ConcurrencyLimit };
  status: () => StatusReplyMsg;
  log: Logger;
  access: AccessPolicy;
  credentials: grpc.ServerCredentials;
}

export async function startGrpcServer(host: string, port: number, deps: ServerDeps): Promise<{ server: grpc.Server; port: number }> {
  const v1 = protocol();
  const server = new grpc.Server({ ...SERVER_OPTIONS, interceptors: [accessGuard(deps.access, deps.log)] });
  widenStreamWindow(server, FLOW_CONTROL_WINDOW, deps.log);
  server.addService(v1.Training.service, {
    Session: (call: Parameters<typeof handleWorkerSession>[0]) => handleWorkerSession(call, deps.session),
    FetchDataset: (call: grpc.ServerWritableStream<DatasetRequestMsg, DatasetChunkMsg>) => {
      const refuse = (code: grpc.status, why: string) => {
        deps.log.warn(`refused a dataset transfer to ${call.getPeer()}: ${why}`);
        endWithStatus(call, code, why);
      };
      try {
        checkDatasetRequest(call.request);
      } catch (err) {
        if (err instanceof WireFormatError) return refuse(grpc.status.INVALID_ARGUMENT, err.message);
        throw err;
      }
      const req = call.request;
      if (req.runId !== deps.session.runId || req.sha256 !== deps.dataset.sha256) {
        return refuse(grpc.status.FAILED_PRECONDITION, `this coordinator serves dataset ${deps.dataset.sha256.slice(0, 12)}... of run ${deps.session.runId}`);
      }
      const release = deps.dataset.transfers.tryAcquire();
      if (release === undefined) return refuse(grpc.status.RESOURCE_EXHAUSTED, `${deps.dataset.transfers.max} dataset transfers are running; try again later`);
      call.once('close', release);
      call.once('cancelled', release);
      const bytes = deps.dataset.pack();
      deps.log.info(`streaming the dataset (${(bytes.length / 2 ** 20).toFixed(1)} MiB) to ${call.getPeer()}`);
      for (let offset = 0; offset < bytes.length; offset += MAX_CHUNK_BYTES) {
        call.write({ offset, totalBytes: bytes.length, data: bytes.subarray(offset, offset + MAX_CHUNK_BYTES) });
      }
      call.end();
    },
  });
  server.addService(v1.Operator.service, {
    Status: (_call: grpc.ServerUnaryCall<unknown, StatusReplyMsg>, callback: grpc.sendUnaryData<StatusReplyMsg>) => callback(null, deps.status()),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, deps.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((err: Error) => {
    throw new ConfigError(`cannot listen on ${host}:${port}: ${bindFailure(err.message)}`);
  });
  widenConnectionWindows(server, FLOW_CONTROL_WINDOW, deps.log);
  return { server, port: bound };
}

/** grpc-js wraps the socket's error (`No address added out of total 1 resolved errors: [listen EADDRINUSE: ...]`): the inner one says it. */
function bindFailure(message: string): string {
  const inner = /errors: \[(.*)\]$/.exec(message)?.[1] ?? message;
  return /EADDRINUSE/.test(inner) ? `${inner}; another program listens there: give another --port (0 picks a free one)` : inner;
}
