/**
 * The shared cluster token: who holds it may join the run, fetch its data
 * and read its status. It travels as `authorization: Bearer <token>`
 * metadata on every call, is compared in constant time, and is never
 * logged (errors name the file, not the contents).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { tokenFromEnvironment } from '../config/env';
import { ConfigError } from '../errors';
import { readNamedFile } from '../io/named-file';

export const TOKEN_METADATA_KEY = 'authorization';
const MIN_TOKEN_LENGTH = 16;

/** The token from --token-file, else GRADFLEET_TOKEN, else none. */
export function loadToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let token: string;
  let origin: string;
  if (tokenFile !== undefined) {
    origin = `--token-file ${tokenFile}`;
    token = readNamedFile('--token-file', tokenFile).toString('utf8').trim();
  } else {
    const fromEnv = tokenFromEnvironment(env);
    if (fromEnv === undefined || fromEnv.trim() === '') return undefined;
    origin = 'GRADFLEET_TOKEN';
    token = fromEnv.trim();
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`${origin}: the token must have at least ${MIN_TOKEN_LENGTH} characters (make one with: openssl rand -hex 32)`);
  }
  if (!/^[\x21-\x7e]+$/.test(token)) throw new ConfigError(`${origin}: the token must be printable ASCII without spaces`);
  return token;
}

/** Metadata that carries the token on a call (empty without one). */
export function tokenMetadata(metadata: grpc.Metadata, token: string | undefined): grpc.Metadata {
  if (token !== undefined) metadata.set(TOKEN_METADATA_KEY, `Bearer ${token}`);
  return metadata;
}

/** The token in an `authorization: Bearer <token>` value (gRPC metadata or an HTTP header), or undefined. */
export function bearerToken(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}

/** Constant-time comparison: hashing first makes the lengths equal, so timing says nothing about the token. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}
