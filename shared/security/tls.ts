/**
 * TLS credentials from PEM files. The coordinator serves with --tls-cert and
 * --tls-key; with --tls-ca it also asks workers for a client certificate
 * (mutual TLS). The handshake accepts any client certificate so that the
 * access guard can refuse an untrusted one with UNAUTHENTICATED and a log
 * line, instead of a bare connection reset the worker cannot explain.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../errors';
import { readNamedFile } from '../io/named-file';

export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

function pem(file: string, flag: string): Buffer {
  const bytes = readNamedFile(flag, file);
  if (!bytes.includes('-----BEGIN ')) throw new ConfigError(`${flag} ${file}: not a PEM file`);
  return bytes;
}

/**
 * A certificate provider that hands out fixed PEM bytes. It answers a new
 * listener on the next turn, as grpc-js's own file-watching provider does:
 * grpc-js registers its watcher only after adding the listener, so a
 * synchronous answer would be lost.
 */
function fixedProvider(update: { ca?: Buffer; cert?: Buffer; key?: Buffer }): grpc.experimental.CertificateProvider {
  return {
    addCaCertificateListener: (l) => setImmediate(() => l(update.ca ? { caCertificate: update.ca } : null)),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (l) => setImmediate(() => l(update.cert && update.key ? { certificate: update.cert, privateKey: update.key } : null)),
    removeIdentityCertificateListener: () => undefined,
  };
}

export function isTls(files: TlsFiles): boolean {
  return files.cert !== undefined || files.key !== undefined || files.ca !== undefined;
}

export function serverCredentials(files: TlsFiles): grpc.ServerCredentials {
  if (!isTls(files)) return grpc.ServerCredentials.createInsecure();
  if (files.cert === undefined || files.key === undefined) throw new ConfigError('TLS needs both --tls-cert and --tls-key');
  const cert = pem(files.cert, '--tls-cert');
  const key = pem(files.key, '--tls-key');
  if (files.ca === undefined) return grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
  // One provider in both places: grpc-js 1.14's createCertificateProviderServerCredentials(ca, identity, ...)
  // hands its arguments to a constructor that takes (identity, ca, ...), so the order cannot be trusted.
  const both = fixedProvider({ ca: pem(files.ca, '--tls-ca'), cert, key });
  return grpc.experimental.createCertificateProviderServerCredentials(both, both, false);
}

/** Worker and status-client side: --tls-ca verifies the coordinator; --tls-cert/--tls-key prove the worker (mutual TLS). */
export function channelCredentials(files: TlsFiles): grpc.ChannelCredentials {
  if (!isTls(files)) return grpc.credentials.createInsecure();
  if ((files.cert === undefined) !== (files.key === undefined)) throw new ConfigError('a client certificate needs both --tls-cert and --tls-key');
  return grpc.credentials.createSsl(
    files.ca !== undefined ? pem(files.ca, '--tls-ca') : null,
    files.key !== undefined ? pem(files.key, '--tls-key') : null,
    files.cert !== undefined ? pem(files.cert, '--tls-cert') : null,
  );
}
