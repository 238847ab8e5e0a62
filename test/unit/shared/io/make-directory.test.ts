import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../../../shared/errors';
import { makeDirectory, makeWritableDirectory } from '../../../../shared/io/make-directory';
import { tmpDir } from '../../../helpers/tmp';

describe('making a directory and its parents', () => {
  it('makes every missing level, and is content with one that exists', () => {
    const dir = path.join(tmpDir(), 'a', 'b', 'c');
    makeDirectory(dir);
    makeDirectory(dir);
    assert.ok(fs.statSync(dir).isDirectory());
  });

  it('refuses a path through a file, or onto one', () => {
    const file = path.join(tmpDir(), 'file');
    fs.writeFileSync(file, '');
    assert.throws(() => makeDirectory(path.join(file, 'run')), { code: 'ENOTDIR' });
    assert.throws(() => makeDirectory(file), { code: 'EEXIST' });
  });

  it('fails under a dangling symlink (an unmounted volume)', () => {
    const link = path.join(tmpDir(), 'volume');
    fs.symlinkSync(path.join(tmpDir(), 'not-mounted'), link);
    assert.throws(() => makeDirectory(path.join(link, 'run')), { code: 'ENOENT' });
  });

  it('fails at once under /proc, where Node’s recursive mkdir spins for ever', function () {
    if (!fs.existsSync('/proc/self')) this.skip();
    // In a child process with a time limit: a loop here would block this one, timeouts included.
    const code = `require(${JSON.stringify(require.resolve('../../../../shared/io/make-directory'))}).makeDirectory('/proc/gradfleet/run')`;
    const r = spawnSync(process.execPath, ['-e', `try { ${code} } catch (err) { console.log(err.code) }`], { timeout: 30_000, encoding: 'utf8' });
    assert.equal(r.signal, null, 'it did not end');
    assert.equal(r.stdout.trim(), 'ENOENT');
  });

  it('names the flag that gave a directory it cannot make, in one line', () => {
    const file = path.join(tmpDir(), 'file');
    fs.writeFileSync(file, '');
    assert.throws(
      () => makeWritableDirectory('--data-dir', path.join(file, 'mnist')),
      (err: Error) => err instanceof ConfigError && err.message === `--data-dir ${file}/mnist: cannot create it or write there (ENOTDIR: not a directory, mkdir '${file}/mnist')`,
    );
  });
});
