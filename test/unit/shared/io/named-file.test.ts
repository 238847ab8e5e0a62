import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../../../shared/errors';
import { readNamedFile } from '../../../../shared/io/named-file';
import { tmpDir } from '../../../helpers/tmp';

describe('a file the user named', () => {
  it('is read as it is', () => {
    const file = path.join(tmpDir(), 'token');
    fs.writeFileSync(file, 'secret\n');
    assert.equal(readNamedFile('--token-file', file).toString(), 'secret\n');
  });

  it('that is missing, or a directory, is a one-line ConfigError naming the flag and the file', () => {
    const dir = tmpDir();
    const refusal = (message: string) => (err: Error) => err instanceof ConfigError && err.message === message;
    assert.throws(() => readNamedFile('--tls-cert', path.join(dir, 'cert.pem')), refusal(`--tls-cert ${path.join(dir, 'cert.pem')}: not found`));
    assert.throws(() => readNamedFile('config file', dir), refusal(`config file ${dir}: a directory, not a file`));
  });
});
