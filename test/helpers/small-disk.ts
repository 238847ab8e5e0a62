/**
 * A disk that fills up, for real: a tmpfs of a few MiB mounted for the
 * suite (needs root and `mount`; the suite skips with the reason otherwise).
 */
import { spawnSync } from 'node:child_process';
import { tmpDir } from './tmp';
import { skipIfMissing } from './skip';

export interface SmallDisk {
  dir: string;
  /** Gives the disk `mib` MiB, keeping what is on it: the user freeing space. */
  resize(mib: number): void;
}

function mount(...args: string[]): string | undefined {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.error !== undefined) return `'mount' is not available (${r.error.message})`;
  return r.status === 0 ? undefined : `'mount ${args.join(' ')}' failed: ${r.stderr.trim()}`;
}

/** A fresh `mib`-MiB disk for each test of the suite. */
export function withSmallDisk(mib: number): () => SmallDisk {
  let disk: SmallDisk | undefined;
  beforeEach(function () {
    const dir = tmpDir('gradfleet-disk-');
    skipIfMissing(this, process.getuid?.() !== 0 ? 'mounting a small disk needs root' : mount('-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir));
    disk = {
      dir,
      resize: (size) => {
        const failed = mount('-o', `remount,size=${size}m`, dir);
        if (failed !== undefined) throw new Error(failed);
      },
    };
  });
  afterEach(() => {
    if (disk !== undefined) spawnSync('umount', [disk.dir]);
    disk = undefined;
  });
  return () => disk!;
}
