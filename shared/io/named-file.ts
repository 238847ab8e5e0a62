/** A file the user named (a flag's value, a config file), read with an error that names both when it cannot be. */
import * as fs from 'node:fs';
import { ConfigError, isSystemError } from '../errors';

/** Reads `file`, named by `what` (`--token-file`, `config file`); a missing, unreadable or non-file path is a ConfigError naming both. */
export function readNamedFile(what: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if (!isSystemError(err)) throw err;
    throw new ConfigError(`${what} ${file}: ${unreadable(err)}`);
  }
}

function unreadable(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'not found';
  if (err.code === 'EISDIR') return 'a directory, not a file';
  return `cannot read it (${err.message})`;
}
