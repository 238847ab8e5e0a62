import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../../../shared/errors';
import { loadToken, tokenMatches } from '../../../../shared/security/token';
import { tmpDir } from '../../../helpers/tmp';

describe('the cluster token', () => {
  const file = (text: string) => {
    const f = path.join(tmpDir(), 'token');
    fs.writeFileSync(f, text);
    return f;
  };

  it('comes from --token-file (trailing newline ignored), else GRADFLEET_TOKEN, else there is none', () => {
    assert.equal(loadToken(file('0123456789abcdef0123\n'), { GRADFLEET_TOKEN: 'ignored-because-a-file-wins' }), '0123456789abcdef0123');
    assert.equal(loadToken(undefined, { GRADFLEET_TOKEN: 'from-the-environment-1' }), 'from-the-environment-1');
    assert.equal(loadToken(undefined, {}), undefined);
  });

  it('refuses a short token, a missing file, and spaces, naming where it came from but never the token', () => {
    assert.throws(() => loadToken(file('short')), (e: Error) => e instanceof ConfigError && /at least 16 characters/.test(e.message) && !/short\b/.test(e.message.replace(/--token-file \S+/, '')));
    assert.throws(() => loadToken('/nonexistent/token'), /--token-file \/nonexistent\/token: not found$/);
    assert.throws(() => loadToken(undefined, { GRADFLEET_TOKEN: 'has a space in it, sadly' }), /GRADFLEET_TOKEN: the token must be printable ASCII without spaces/);
  });

  it('matches only the exact token', () => {
    assert.equal(tokenMatches('0123456789abcdef', '0123456789abcdef'), true);
    assert.equal(tokenMatches('0123456789abcdef', '0123456789abcdeF'), false);
    assert.equal(tokenMatches('0123456789abcdef', '0123456789abcdef0'), false);
    assert.equal(tokenMatches('0123456789abcdef', undefined), false);
  });
});
