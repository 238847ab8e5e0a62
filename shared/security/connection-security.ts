/** The security settings of one process, compiled from its options: the token it holds and its TLS files. */
import type { OptionValues } from '../config/resolve-options';
import { loadToken } from './token';
import type { TlsFiles } from './tls';

export interface ConnectionSecurity {
  token: string | undefined;
  tls: TlsFiles;
}

export function compileConnectionSecurity(v: OptionValues): ConnectionSecurity {
  return {
    token: loadToken(v.tokenFile as string | undefined),
    tls: { cert: v.tlsCert as string | undefined, key: v.tlsKey as string | undefined, ca: v.tlsCa as string | undefined },
  };
}

/** The flags that hand the same security to a child process (`gradfleet local` workers); the token stays in its file or the environment. */
export function connectionFlags(v: OptionValues): string[] {
  const flags: string[] = [];
  for (const [key, flag] of [
    ['tokenFile', '--token-file'],
    ['tlsCert', '--tls-cert'],
    ['tlsKey', '--tls-key'],
    ['tlsCa', '--tls-ca'],
  ] as const) {
    if (v[key] !== undefined) flags.push(flag, String(v[key]));
  }
  return flags;
}
