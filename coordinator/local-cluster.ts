/**
 * `gradfleet local --workers N`: a coordinator in this process and N worker
 * processes beside it, wired over loopback, their output in one terminal.
 * Ctrl-C stops them all.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { BackendName } from '../shared/backends/backend-loader';
import { getLogger } from '../shared/logging';
import { CoordinatorOptions, startCoordinator } from './coordinator';
import type { SessionResult } from './training-session';

export interface LocalClusterOptions extends CoordinatorOptions {
  workers: number;
  workerBackend: BackendName;
  /** Token and TLS flags the workers need to be let in. */
  workerFlags: string[];
}

const CLI = require.resolve('./cli/main');

function prefixLines(stream: NodeJS.ReadableStream, prefix: string): void {
  readline.createInterface({ input: stream }).on('line', (line) => process.stderr.write(`${prefix} ${line}\n`));
}

export async function runLocalCluster(o: LocalClusterOptions): Promise<SessionResult> {
  const log = getLogger({ component: 'local', runId: o.runId });
  // All N workers are admitted before the first step, so shards are balanced from the start.
  const coordinator = await startCoordinator({ ...o, host: '127.0.0.1', minWorkers: o.workers });
  const children: ChildProcess[] = [];
  for (let i = 1; i <= o.workers; i++) {
    const child = spawn(
      process.execPath,
      [CLI, 'worker', '--coordinator', `127.0.0.1:${coordinator.port}`, '--backend', o.workerBackend, '--data-dir', o.dataDir, '--name', `worker-${i}`, '--run-id', o.runId, '--log-level', o.logLevel, ...o.workerFlags],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prefixLines(child.stdout!, `[worker-${i}]`);
    prefixLines(child.stderr!, `[worker-${i}]`);
    child.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) log.warn(`worker-${i} exited with code ${code}`);
      else if (signal !== null && signal !== 'SIGTERM') log.warn(`worker-${i} was killed by ${signal}`);
    });
    children.push(child);
  }
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  const onSignal = () => {
    log.warn('interrupted: stopping the coordinator and workers');
    // The coordinator first: workers that leave a stopped run are not reported as lost.
    void coordinator.stop('interrupted');
    stopAll();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await coordinator.result;
  } catch (err) {
    stopAll();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((resolve) => c.once('exit', resolve)))));
  }
}
