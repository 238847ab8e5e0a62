import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const CLI = path.resolve(__dirname, '../../coordinator/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `gradfleet ARGS` as a separate process, as a user would; one still
 * running after `timeoutMs` is killed (its code is then -1) with SIGKILL: a
 * hang in synchronous code never runs its SIGTERM handler.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string, timeoutMs = 600_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1', ...env },
    cwd,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
