/** `gradfleet status`: asks a coordinator's Operator service for a snapshot of its run. */
import * as grpc from '@grpc/grpc-js';
import { NetworkError, UserError } from '../shared/errors';
import type { ConnectionSecurity } from '../shared/security/connection-security';
import { channelCredentials } from '../shared/security/tls';
import { tokenMetadata } from '../shared/security/token';
import { connectionFailure } from '../shared/wire/connection-error';
import { CHANNEL_OPTIONS, protocol, StatusReplyMsg } from '../shared/wire/protocol';

export async function queryStatus(address: string, timeoutMs = 5000, security: ConnectionSecurity = { token: undefined, tls: {} }): Promise<StatusReplyMsg> {
  const client = new (protocol().Operator)(address, channelCredentials(security.tls), CHANNEL_OPTIONS) as unknown as {
    Status(req: object, metadata: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, reply: StatusReplyMsg) => void): void;
    close(): void;
  };
  try {
    return await new Promise<StatusReplyMsg>((resolve, reject) =>
      client.Status({}, tokenMetadata(new grpc.Metadata(), security.token), { deadline: Date.now() + timeoutMs }, (err, reply) => (err ? reject(err) : resolve(reply))),
    );
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.UNAUTHENTICATED) throw new UserError(`the coordinator at ${address} refused the request: ${e.details}`);
    throw new NetworkError(`no coordinator answered at ${address}: ${e.details ? connectionFailure(e.details) : e.message}`);
  } finally {
    client.close();
  }
}

const fmt = (n: number, digits = 4) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function formatStatus(s: StatusReplyMsg): string {
  const lines = [
    `run ${s.runId} (${s.model} on ${s.dataset}): ${s.state}, epoch ${s.epoch}/${s.epochs}, step ${s.step}`,
    `loss ${fmt(s.loss)} acc ${fmt(s.accuracy)} val_loss ${fmt(s.valLoss)} val_acc ${fmt(s.valAccuracy)}, ${fmt(s.samplesPerSecond, 0)} samples/s`,
    '',
    ...(s.workers.length === 0
      ? ['no workers connected']
      : [
          ['worker', 'name', 'address', 'backend', 'state', 'samples/s', 'shards', 'last seen'].join('\t'),
          ...s.workers.map((w) =>
            [w.workerId, w.name, w.address, w.backend, w.state, fmt(w.samplesPerSecond, 0), w.shardsDone, `${(w.silentMs / 1000).toFixed(1)} s ago`].join('\t'),
          ),
        ]),
  ];
  return lines.join('\n');
}
