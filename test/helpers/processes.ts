import { ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { queryStatus } from '../../coordinator/status-client';
import { CLI } from './cli';

/**
 * A fixed port for a coordinator that a test starts (or restarts) on an
 * address it knows in advance; `slot` keeps tests apart, the pid keeps
 * concurrent runs apart. Below Linux's ephemeral range (32768-60999): a
 * worker redialling a killed coordinator on a port in that range can be
 * given the same port for its own end and connect to itself, and then the
 * restarted coordinator cannot listen there (EADDRINUSE, seen once in CI).
 */
export function fixedPort(slot: number): number {
  return 20_000 + slot * 1000 + (process.pid % 1000);
}

/** Starts `gradfleet coordinator ARGS` and resolves with its port once it listens. */
export function startCoordinatorProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; port: number; stdout: string[]; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'coordinator', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const stdout: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const fixed = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 50051;
    const done = (port: number) => resolve({ child, port, stdout, stderr: () => stderr });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout.push(line);
      const m = /^listening on [\d.]+:(\d+)$/.exec(line);
      if (m) done(Number(m[1]));
    });
    const poll = setInterval(() => {
      if (fixed !== 0 && /listening on /.test(stderr)) {
        clearInterval(poll);
        done(fixed);
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`coordinator exited with ${code}: ${stderr}`));
    });
  });
}

export function startWorkerProcess(port: number, name: string, extra: string[] = []): ChildProcess {
  return spawn(process.execPath, [CLI, 'worker', '--coordinator', `127.0.0.1:${port}`, '--backend', 'wasm', '--name', name, ...extra], { stdio: 'ignore' });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Polls the coordinator's status (in this process: a poll takes milliseconds) until the run has done `step` steps. */
export async function waitForStep(port: number, step: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    try {
      last = (await queryStatus(`127.0.0.1:${port}`, 1000)).step;
      if (last >= step) return;
    } catch {
      // not listening yet, or restarting
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the run did not reach step ${step} (last seen: ${last})`);
}
