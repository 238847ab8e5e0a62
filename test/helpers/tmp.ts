import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh temporary directory, removed after the current mocha suite. */
export function tmpDir(prefix = 'gradfleet-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
