/**
 * Where the coordinator may listen. Loopback is private to the machine;
 * any other address is reachable by whoever shares the network, so it
 * needs the shared token, or an explicit --insecure that is repeated as a
 * warning at every start.
 */
import * as net from 'node:net';
import { ConfigError } from '../errors';
import type { Logger } from '../logging';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1';
  return false;
}

export interface ListenSecurity {
  token: string | undefined;
  insecure: boolean;
  tls: boolean;
}

export function checkListenPolicy(host: string, s: ListenSecurity, log: Logger): void {
  if (isLoopback(host)) return;
  if (s.token === undefined && !s.insecure) {
    throw new ConfigError(
      `refusing to listen on ${host} without a token: anyone who can reach it could join the run; give --token-file FILE or GRADFLEET_TOKEN (or --insecure to accept that)`,
    );
  }
  if (s.token === undefined) log.warn(`--insecure: listening on ${host} with no token; anyone who can reach this port can join the run, read its data and stop it`);
  else if (!s.tls) log.warn(`listening on ${host} without TLS: the token and the weights cross the network in clear text (see SECURITY.md)`);
}
