import { strict as assert } from 'node:assert';
import { checkListenPolicy, isLoopback } from '../../../../shared/security/listen-policy';
import { getLogger } from '../../../../shared/logging';

describe('the listen policy', () => {
  const warnings: string[] = [];
  const log = { ...getLogger({ component: 'test' }), warn: (m: string) => warnings.push(m) } as unknown as ReturnType<typeof getLogger>;
  beforeEach(() => (warnings.length = 0));

  it('knows loopback addresses from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.org', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
  });

  it('lets loopback listen with no token and no warning', () => {
    checkListenPolicy('127.0.0.1', { token: undefined, insecure: false, tls: false }, log);
    assert.deepEqual(warnings, []);
  });

  it('refuses any other address without a token unless --insecure, which warns every time', () => {
    assert.throws(() => checkListenPolicy('0.0.0.0', { token: undefined, insecure: false, tls: false }, log), /refusing to listen on 0\.0\.0\.0 without a token/);
    checkListenPolicy('0.0.0.0', { token: undefined, insecure: true, tls: false }, log);
    assert.match(warnings[0], /--insecure: listening on 0\.0\.0\.0 with no token/);
  });

  it('warns that a token without TLS crosses the network in clear text', () => {
    checkListenPolicy('10.1.2.3', { token: '0123456789abcdef', insecure: false, tls: false }, log);
    assert.match(warnings[0], /without TLS/);
    warnings.length = 0;
    checkListenPolicy('10.1.2.3', { token: '0123456789abcdef', insecure: false, tls: true }, log);
    assert.deepEqual(warnings, []);
  });
});
