/**
 * The run directory every training command writes into: created up front so
 * a bad --run-dir fails before any work, and claimed by one command at a time.
 * Two runs in one directory resume from each other's half-written checkpoints,
 * prune each other's and interleave their metrics.jsonl; a second start (a job
 * requeued while the first still runs, a second terminal) is refused instead.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, isSystemError } from '../errors';
import type { Logger } from '../logging';
import { makeWritableDirectory } from './make-directory';

export const LOCK_FILE = 'run.lock';

export interface RunDirectoryClaim {
  readonly dir: string;
  /** Gives the directory up; later calls do nothing. */
  release(): void;
}

/** What run.lock records of the command holding the directory. */
export interface LockHolder {
  command: string;
  pid: number;
  host: string;
  started: string;
  /** Tells this claim from a later one by a process that got the same pid. */
  claim: string;
}

export function claimRunDirectory(dir: string, command: string, log: Logger): RunDirectoryClaim {
  makeWritableDirectory('--run-dir', dir);
  const file = path.join(dir, LOCK_FILE);
  const holder: LockHolder = { command, pid: process.pid, host: os.hostname(), started: new Date().toISOString(), claim: randomUUID() };
  // Two rounds: the second follows the removal of a lock whose holder has gone.
  for (let round = 0; round < 2; round++) {
    if (createWithContent(file, `${JSON.stringify(holder)}\n`)) return heldClaim(dir, file, holder.claim);
    const other = readHolder(file);
    if (other === undefined) {
      // Gone between the failed create and the read: the holder has just released it.
      if (!fs.existsSync(file)) continue;
      throw new ConfigError(`--run-dir ${dir}: ${file} is not a gradfleet lock; remove it if no gradfleet command uses this directory`);
    }
    if (isRunning(other)) throw new ConfigError(`--run-dir ${dir} is in use by ${describe(other)}; ${adviceFor(other, file)}`);
    log.warn(`${file} names gradfleet ${other.command} (pid ${other.pid}), which is no longer running; taking the run directory over`);
    fs.rmSync(file, { force: true });
  }
  throw new ConfigError(`--run-dir ${dir}: another gradfleet command claimed it at the same moment`);
}

/** Creates `file` holding `content` in one step (a hard link of a finished temporary file), so no reader sees it empty; false when it exists. */
function createWithContent(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomUUID()}`;
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if (isSystemError(err) && err.code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    const complete = typeof h.command === 'string' && Number.isInteger(h.pid) && typeof h.host === 'string' && typeof h.started === 'string' && typeof h.claim === 'string';
    return complete ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder may still be running; a process on another host cannot be asked, so it is taken to be. */
function isRunning(h: LockHolder): boolean {
  if (h.host !== os.hostname()) return true;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return !(isSystemError(err) && err.code === 'ESRCH');
  }
}

function describe(h: LockHolder): string {
  const where = h.host === os.hostname() ? (h.pid === process.pid ? 'this process' : `pid ${h.pid} on this host`) : `pid ${h.pid} on host ${h.host}`;
  return `gradfleet ${h.command} (${where}, since ${h.started})`;
}

function adviceFor(h: LockHolder, file: string): string {
  if (h.host === os.hostname()) return 'wait for it to end or stop it, or give another --run-dir';
  return `wait for it to end or stop it, or give another --run-dir; if it is no longer running, remove ${file}`;
}

function heldClaim(dir: string, file: string, claim: string): RunDirectoryClaim {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    // Only our own lock: the directory may have been taken over since (its run.lock removed by hand).
    if (readHolder(file)?.claim === claim) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { dir, release };
}
