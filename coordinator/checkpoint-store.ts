/**
 * Checkpoints on disk, in the layout of ARCHITECTURE.md:
 *
 *   <run>/checkpoints/ckpt-<step>/   model.json, weights.bin, optimizer.json,
 *                                    optimizer.bin, state.json, MANIFEST.json
 *   <run>/checkpoints/latest         names the newest complete checkpoint
 *   <run>/checkpoints/best/          a copy of the best one by the monitored metric
 *
 * A checkpoint is written into a temporary directory, every file fsynced,
 * MANIFEST.json (size and SHA-256 of every other file) written last, then
 * renamed into place; `latest` is replaced by an atomic rename. A checkpoint
 * whose manifest does not verify is never loaded: the reader falls back to
 * the previous one and says why.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSystemError, RunFailedError } from '../shared/errors';
import { fsyncPath, writeFileSynced } from '../shared/io/durable-files';
import { makeDirectory } from '../shared/io/make-directory';

export const MANIFEST = 'MANIFEST.json';
export const LATEST = 'latest';
export const BEST = 'best';
const PREFIX = 'ckpt-';

export interface Manifest {
  format: 'gradfleet-checkpoint/1';
  step: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

export type CheckpointFiles = Record<string, Uint8Array | string>;

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export class CheckpointStore {
  readonly dir: string;

  constructor(
    runDir: string,
    /** Fault injection: sleep this long before writing the manifest. */
    private readonly pauseBeforeManifestMs = 0,
    /** Files every checkpoint of this store must list: a manifest without them cannot vouch for it. */
    private readonly required: readonly string[] = [],
  ) {
    this.dir = path.join(runDir, 'checkpoints');
  }

  pathOf(step: number): string {
    return path.join(this.dir, `${PREFIX}${step}`);
  }

  /** Writes a complete checkpoint for `step` and points `latest` at it. */
  write(step: number, files: CheckpointFiles): string {
    for (const name of Object.keys(files)) {
      if (name === MANIFEST) throw new RangeError(`${MANIFEST} is written by the store`);
      if (name.includes('/') || name.startsWith('.')) throw new RangeError(`bad checkpoint file name ${name}`);
    }
    const final = this.pathOf(step);
    const tmp = `${final}.tmp-${process.pid}`;
    withStorage(`the checkpoint of step ${step} to ${final}`, tmp, () => {
      makeDirectory(this.dir);
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.mkdirSync(tmp);
      const manifest: Manifest = { format: 'gradfleet-checkpoint/1', step, files: {} };
      for (const [name, data] of Object.entries(files)) {
        writeFileSynced(path.join(tmp, name), data);
        manifest.files[name] = { bytes: Buffer.byteLength(data), sha256: sha256(data) };
      }
      if (this.pauseBeforeManifestMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.pauseBeforeManifestMs);
      writeFileSynced(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2));
      fsyncPath(tmp);
      fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(tmp, final);
      fsyncPath(this.dir);
      this.pointLatestAt(path.basename(final));
    });
    return final;
  }

  private pointLatestAt(name: string): void {
    const tmp = path.join(this.dir, `${LATEST}.tmp-${process.pid}`);
    writeFileSynced(tmp, `${name}\n`);
    fs.renameSync(tmp, path.join(this.dir, LATEST));
    fsyncPath(this.dir);
  }

  /** Why `dir` is not a usable checkpoint, or undefined when every file matches its manifest. */
  static verify(dir: string, required: readonly string[] = []): string | undefined {
    const manifestPath = path.join(dir, MANIFEST);
    if (!fs.existsSync(manifestPath)) return `${MANIFEST} is missing (the write did not finish)`;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
    } catch (err) {
      return `${MANIFEST} is not valid JSON (${(err as Error).message})`;
    }
    if (manifest === null || typeof manifest !== 'object' || manifest.format !== 'gradfleet-checkpoint/1' || typeof manifest.files !== 'object' || manifest.files === null) {
      return `${MANIFEST} is not a gradfleet checkpoint manifest`;
    }
    for (const name of required) if (!(name in manifest.files)) return `${MANIFEST} does not list ${name}`;
    for (const [name, want] of Object.entries(manifest.files)) {
      // Names come from a file on disk: nothing outside the checkpoint's own directory may be read.
      if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) return `${MANIFEST} lists a bad file name ${JSON.stringify(name).slice(0, 80)}`;
      if (want === null || typeof want !== 'object' || !Number.isSafeInteger(want.bytes) || typeof want.sha256 !== 'string') {
        return `${MANIFEST} has a bad entry for ${name}`;
      }
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) return `${name} is missing`;
      const data = fs.readFileSync(file);
      if (data.length !== want.bytes) return `${name} has ${data.length} bytes, the manifest says ${want.bytes}`;
      if (sha256(data) !== want.sha256) return `${name} does not match its SHA-256 in the manifest`;
    }
    return undefined;
  }

  /** Complete checkpoints, newest (highest step) first. */
  list(): { step: number; dir: string }[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .map((name) => /^ckpt-(\d+)$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), dir: path.join(this.dir, m[0]) }))
      .sort((a, b) => b.step - a.step);
  }

  /**
   * The newest checkpoint that verifies, and for each newer one the reason it
   * was passed over. `latest` is a hint: a crash can leave it one behind.
   */
  newestValid(): { found?: { step: number; dir: string }; skipped: { dir: string; reason: string }[] } {
    const skipped: { dir: string; reason: string }[] = this.unfinishedWrites().map((dir) => ({
      dir,
      reason: 'a checkpoint write that never finished (the process died during it)',
    }));
    for (const c of this.list()) {
      const reason = CheckpointStore.verify(c.dir, this.required);
      if (reason === undefined) return { found: c, skipped };
      skipped.push({ dir: c.dir, reason });
    }
    return { skipped };
  }

  /** Temporary directories left by writes that were killed before their rename. */
  unfinishedWrites(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((name) => /^ckpt-\d+\.tmp-\d+$/.test(name))
      .map((name) => path.join(this.dir, name));
  }

  /** Keeps the newest `keep` checkpoints (0 keeps all); `best/` and the one `latest` names are never removed. */
  prune(keep: number): string[] {
    if (keep <= 0) return [];
    const latest = fs.existsSync(path.join(this.dir, LATEST)) ? fs.readFileSync(path.join(this.dir, LATEST), 'utf8').trim() : '';
    const removed: string[] = [];
    for (const c of this.list().slice(keep)) {
      if (path.basename(c.dir) === latest) continue;
      fs.rmSync(c.dir, { recursive: true, force: true });
      removed.push(c.dir);
    }
    return removed;
  }

  /** Copies a checkpoint to `best/`, replacing the previous best atomically. */
  markBest(dir: string): void {
    const tmp = path.join(this.dir, `${BEST}.tmp-${process.pid}`);
    const best = path.join(this.dir, BEST);
    withStorage(`the best checkpoint to ${best}`, tmp, () => {
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.cpSync(dir, tmp, { recursive: true });
      const old = path.join(this.dir, `${BEST}.old-${process.pid}`);
      if (fs.existsSync(best)) fs.renameSync(best, old);
      fs.renameSync(tmp, best);
      fs.rmSync(old, { recursive: true, force: true });
      fsyncPath(this.dir);
    });
  }
}

/**
 * Runs a write that builds `tmp` and renames it into place. A disk that is full or fails leaves the
 * checkpoints already written as they were and gives back the space of the partial copy; the run
 * stops with a one-line reason rather than going on without the checkpoints it was asked to keep.
 */
function withStorage(what: string, tmp: string, write: () => void): void {
  try {
    write();
  } catch (err) {
    if (!isSystemError(err)) throw err;
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new RunFailedError(`cannot write ${what}: ${err.message}`);
  }
}
