import { strict as assert } from 'node:assert';
import { checkCoordinatorAddress } from '../../../../shared/config/coordinator-address';
import { ConfigError } from '../../../../shared/errors';

describe('the --coordinator address', () => {
  it('takes a host name, an IPv4 address or a bracketed IPv6 address with a port', () => {
    for (const a of ['coordinator-host:50051', 'gradfleet-coordinator.default.svc:50051', '10.0.0.5:1', '[::1]:50051', '[fe80::1]:65535']) {
      assert.equal(checkCoordinatorAddress(a), a);
    }
  });

  it('refuses, naming the address, one without a port, with a port out of range, or with no host', () => {
    for (const a of ['coordinator-host', '10.0.0.5', 'host:0', 'host:65536', 'host:http', ':50051', 'a b:50051', '::1:50051', 'dns:///host:50051']) {
      assert.throws(() => checkCoordinatorAddress(a), (err: Error) => err instanceof ConfigError && err.message.includes(`'${a}' is not HOST:PORT`), a);
    }
  });
});
