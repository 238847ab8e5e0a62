/**
 * Every RPC passes here before any handler sees it: the shared token (when
 * the run has one) and, under mutual TLS, a client certificate signed by
 * --tls-ca. A refused call ends with UNAUTHENTICATED and a log line naming
 * the peer and the reason, never the token.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../shared/logging';
import { bearerToken, TOKEN_METADATA_KEY, tokenMatches } from '../../shared/security/token';

export interface AccessPolicy {
  token: string | undefined;
  requireClientCertificate: boolean;
  /** Told of every refusal (metrics). */
  onRefused?: () => void;
}

/** Why a call may not proceed, or undefined when it may. */
export function refusal(policy: AccessPolicy, metadata: grpc.Metadata, auth: grpc.ServerInterceptingCallInterface['getAuthContext']): string | undefined {
  if (policy.requireClientCertificate && auth().sslPeerCertificate === undefined) return 'no client certificate signed by the run’s CA';
  if (policy.token === undefined) return undefined;
  const values = metadata.get(TOKEN_METADATA_KEY);
  if (values.length === 0) return 'no token';
  return tokenMatches(policy.token, bearerToken(values[0])) ? undefined : 'wrong token';
}

export function accessGuard(policy: AccessPolicy, log: Logger): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const why = refusal(policy, metadata, () => call.getAuthContext());
            if (why === undefined) return proceed(metadata);
            log.warn(`refused ${method.path} from ${call.getPeer()}: ${why}`);
            policy.onRefused?.();
            call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: why });
          },
        }),
    });
}
