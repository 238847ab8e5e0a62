/**
 * `gradfleet local --workers N`: a coordinator in this process and N worker
 * processes beside it, wired over loopback, their output in one terminal.
 * A worker process that dies is started again (as torchrun restarts its
 * workers) up to `--max-restarts` times in all; past that the run stops,
 * naming its newest checkpoint. Ctrl-C stops them all.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { BackendName } from '../shared/backends/backend-loader';
import { InterruptedError, RunFailedError } from '../shared/errors';
import { getLogger } from '../shared/logging';
import { writeLines } from '../shared/observability/terminal-lines';
import { startStoppable } from '../shared/stop-signals';
import { CoordinatorOptions, startCoordinator } from './coordinator';
import type { SessionResult } from './training-session';

export interface LocalClusterOptions extends CoordinatorOptions {
  workers: number;
  workerBackend: BackendName;
  /** Token and TLS flags the workers need to be let in. */
  workerFlags: string[];
  /** Worker processes started again after dying, in all, before the run stops. */
  maxRestarts: number;
}

const CLI = require.resolve('./cli/main');

function prefixLines(stream: NodeJS.ReadableStream, prefix: string): void {
  readline.createInterface({ input: stream }).on('line', (line) => writeLines(`${prefix} ${line}\n`));
}

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

export async function runLocalCluster(o: LocalClusterOptions): Promise<SessionResult> {
  const log = getLogger({ component: 'local', runId: o.runId });
  const workers = new Map<number, WorkerProcess>();
  let stopping = false;
  let restarts = 0;
  let failure: string | undefined;

  const stopAll = () => {
    stopping = true;
    for (const { child } of workers.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const { started: coordinator, stopListening } = await startStoppable(
    () => startCoordinator(o, 'local'),
    (c) => {
      log.warn('interrupted: stopping the coordinator and workers');
      // The coordinator first: workers that leave a stopped run are not reported as lost.
      void c.stop('interrupted');
      stopAll();
    },
  );
  const start = (i: number): void => {
    const child = spawn(
      process.execPath,
      [CLI, 'worker', '--coordinator', `127.0.0.1:${coordinator.port}`, '--backend', o.workerBackend, '--data-dir', o.dataDir, '--name', `worker-${i}`, '--run-id', o.runId, '--log-level', o.logLevel, ...o.workerFlags],
      // The IPC channel closes if this process dies unannounced: the worker then stops (onParentGone).
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    prefixLines(child.stdout!, `[worker-${i}]`);
    prefixLines(child.stderr!, `[worker-${i}]`);
    const exited = new Promise<void>((resolve) =>
      child.on('exit', (code, signal) => {
        resolve();
        if (stopping || code === 0) return;
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        if (restarts < o.maxRestarts) {
          restarts++;
          log.warn(`worker-${i} ${how}; starting it again (restart ${restarts} of --max-restarts ${o.maxRestarts})`);
          start(i);
          return;
        }
        failure = `worker-${i} ${how} after ${restarts} restart(s), the most --max-restarts allows`;
        log.error(`${failure}; stopping the run`);
        stopAll();
        void coordinator.stop(failure);
      }),
    );
    workers.set(i, { child, exited });
  };
  if (!stopping) for (let i = 1; i <= o.workers; i++) start(i);
  try {
    return await coordinator.result;
  } catch (err) {
    // The coordinator's message carries the newest checkpoint and how to continue from it.
    throw failure !== undefined && err instanceof InterruptedError ? new RunFailedError(err.message) : err;
  } finally {
    // Workers leave by themselves when a run finishes; after a failure, or one started again at the last moment, not.
    stopAll();
    stopListening();
    await Promise.all([...workers.values()].map((w) => w.exited));
  }
}
