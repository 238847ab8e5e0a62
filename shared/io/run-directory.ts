/** The run directory every training command writes into, created up front so a bad --run-dir fails before any work. */
import * as fs from 'node:fs';
import { ConfigError, isSystemError } from '../errors';

export function createRunDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    if (!isSystemError(err)) throw err;
    // Node's recursive mkdir reports a read-only parent as ENOENT: name the directory, not just the code.
    throw new ConfigError(`--run-dir ${dir}: cannot create it or write there (${err.message})`);
  }
}
