/**
 * A hand-driven client of the coordinator's services: it sends whatever a
 * test tells it to, as a hostile or broken worker would, and collects what
 * comes back.
 */
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, CoordinatorMessage, DatasetChunkMsg, PROTOCOL_VERSION, protocol, WorkerMessage } from '../../shared/wire/protocol';

export type Session = grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage>;

export interface Dial {
  credentials?: grpc.ChannelCredentials;
  token?: string;
}

function metadataFor(dial: Dial): grpc.Metadata {
  const md = new grpc.Metadata();
  if (dial.token !== undefined) md.set('authorization', `Bearer ${dial.token}`);
  return md;
}

function trainingClient(port: number, dial: Dial) {
  return new (protocol().Training)(`127.0.0.1:${port}`, dial.credentials ?? grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as {
    Session(md: grpc.Metadata): Session;
    FetchDataset(req: object, md: grpc.Metadata): grpc.ClientReadableStream<DatasetChunkMsg>;
  };
}

export function rawSession(port: number, dial: Dial = {}): Session {
  return trainingClient(port, dial).Session(metadataFor(dial));
}

export function rawFetch(port: number, request: object, dial: Dial = {}): grpc.ClientReadableStream<DatasetChunkMsg> {
  return trainingClient(port, dial).FetchDataset(request, metadataFor(dial));
}

/** Collects what the coordinator sends on a stream until it ends. */
export function replies<T>(stream: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<WorkerMessage, T>): Promise<{ messages: T[]; error?: grpc.ServiceError }> {
  const messages: T[] = [];
  return new Promise((resolve) => {
    stream.on('data', (m: T) => messages.push(m));
    stream.on('end', () => resolve({ messages }));
    stream.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
  });
}

export const joinMessage = (runId: string, version = PROTOCOL_VERSION): WorkerMessage => ({
  runId,
  body: 'join',
  join: { protocolVersion: version, runId, workerName: 'mallory', backend: 'none' },
});
