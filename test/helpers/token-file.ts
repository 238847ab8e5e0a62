import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from './tmp';

/** A file holding `token`, as a user would make with `openssl rand -hex 32 > token`. */
export function tokenFile(token = 'test-cluster-token-0123456789abcdef'): string {
  const file = path.join(tmpDir(), 'token');
  fs.writeFileSync(file, `${token}\n`);
  return file;
}
