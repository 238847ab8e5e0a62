/**
 * `mkdir -p` that always ends. Node's own (`mkdirSync(dir, { recursive:
 * true })`, Node 20) spins for ever on a path under /proc: procfs answers
 * ENOENT for a child it cannot hold, Node takes that for a missing parent,
 * makes the parent (EEXIST) and tries again, with the event loop blocked,
 * so not even Ctrl-C ends it (the same loop is described in
 * Kewton/CommandMate#1774 and oven-sh/bun#36162). Here each missing level
 * is made once, and the first failure is final.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, isSystemError } from '../errors';

export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !fs.existsSync(at) && path.dirname(at) !== at; at = path.dirname(at)) missing.push(at);
  for (const level of missing.reverse()) {
    try {
      fs.mkdirSync(level);
    } catch (err) {
      // Made meanwhile by another process, or a dangling symlink: the next level's mkdir says which.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // It exists now: this only checks that it is a directory (EEXIST for a file), as before.
  fs.mkdirSync(dir, { recursive: true });
}

/** makeDirectory for a directory the user named with `flag`, which must be writable: a failure is a one-line ConfigError naming both. */
export function makeWritableDirectory(flag: string, dir: string): void {
  try {
    makeDirectory(dir);
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    if (!isSystemError(err)) throw err;
    throw new ConfigError(`${flag} ${dir}: cannot create it or write there (${err.message})`);
  }
}
