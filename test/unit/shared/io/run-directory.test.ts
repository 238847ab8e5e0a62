import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../../../shared/errors';
import { claimRunDirectory, LOCK_FILE, LockHolder } from '../../../../shared/io/run-directory';
import { levelledLogger } from '../../../helpers/line-log';
import { tmpDir } from '../../../helpers/tmp';

function lockOf(dir: string): LockHolder {
  return JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockHolder;
}

function writeLock(dir: string, holder: Partial<LockHolder>): void {
  const full: LockHolder = { command: 'coordinator', pid: 1, host: os.hostname(), started: '2026-11-24T10:00:00.000Z', claim: 'earlier', ...holder };
  fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(full));
}

/** The pid of a process that has already ended. */
function endedPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('the run directory: one command at a time', () => {
  it('creates the directory and records who holds it', () => {
    const dir = path.join(tmpDir(), 'nested', 'run');
    const claim = claimRunDirectory(dir, 'baseline', levelledLogger().log);
    assert.deepEqual([lockOf(dir).command, lockOf(dir).pid, lockOf(dir).host], ['baseline', process.pid, os.hostname()]);
    claim.release();
  });

  it('refuses a second command while the first holds it, naming the first', () => {
    const dir = tmpDir();
    const first = claimRunDirectory(dir, 'coordinator', levelledLogger().log);
    const held = lockOf(dir);
    assert.throws(
      () => claimRunDirectory(dir, 'baseline', levelledLogger().log),
      (err: Error) => err instanceof ConfigError && new RegExp(`^--run-dir ${dir} is in use by gradfleet coordinator \\(this process, since ${held.started}\\); wait for it to end`).test(err.message),
    );
    assert.deepEqual(lockOf(dir), held, 'the refused command leaves the lock alone');
    first.release();
  });

  it('is free again once released, and release leaves no lock behind', () => {
    const dir = tmpDir();
    claimRunDirectory(dir, 'baseline', levelledLogger().log).release();
    assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
    const again = claimRunDirectory(dir, 'baseline', levelledLogger().log);
    again.release();
    again.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('takes over, with a warning, a directory whose holder on this host is no longer running (killed with SIGKILL)', () => {
    const dir = tmpDir();
    const pid = endedPid();
    writeLock(dir, { pid });
    const { log, warn } = levelledLogger();
    const claim = claimRunDirectory(dir, 'coordinator', log);
    assert.deepEqual(warn, [`${path.join(dir, LOCK_FILE)} names gradfleet coordinator (pid ${pid}), which is no longer running; taking the run directory over`]);
    assert.equal(lockOf(dir).pid, process.pid);
    claim.release();
  });

  it('does not take over a directory held on another host, whose process it cannot ask, and says which file to remove', () => {
    const dir = tmpDir();
    writeLock(dir, { host: 'gpu-node-7', pid: endedPid() });
    assert.throws(() => claimRunDirectory(dir, 'coordinator', levelledLogger().log), new RegExp(`in use by gradfleet coordinator \\(pid \\d+ on host gpu-node-7, .*if it is no longer running, remove ${path.join(dir, LOCK_FILE)}$`));
    assert.equal(lockOf(dir).host, 'gpu-node-7');
  });

  it('leaves a run.lock that is not gradfleet\'s alone', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), 'mine\n');
    assert.throws(() => claimRunDirectory(dir, 'baseline', levelledLogger().log), /run\.lock is not a gradfleet lock; remove it if no gradfleet command uses this directory/);
    assert.equal(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), 'mine\n');
  });

  it('does not remove, on release, a lock that another command has taken since', () => {
    const dir = tmpDir();
    const claim = claimRunDirectory(dir, 'baseline', levelledLogger().log);
    writeLock(dir, { pid: process.pid, claim: 'a later one' });
    claim.release();
    assert.equal(lockOf(dir).claim, 'a later one');
  });
});
