/** What a user reads when no connection could be made: the cause, not grpc-js's wrapping. */
import { strict as assert } from 'node:assert';
import { connectionFailure } from '../../../../shared/wire/connection-error';

describe('a failed connection, in words', () => {
  it('keeps the socket error and drops the wrapping around it', () => {
    assert.equal(connectionFailure('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50995. Resolution note: '), 'connect ECONNREFUSED 127.0.0.1:50995');
  });

  it('reads the same at every dial: without the time grpc-js stamps on an HTTP/2 session\'s error', () => {
    assert.equal(connectionFailure('No connection established. Last error: read ECONNRESET (2026-11-24T16:03:14.470Z). Resolution note: '), 'read ECONNRESET');
    assert.equal(connectionFailure('read ECONNRESET (2026-11-24T16:03:15.002Z)'), 'read ECONNRESET');
  });

  it('says what a bare "Protocol error" means: something other than a gRPC server listens there', () => {
    assert.equal(
      connectionFailure('Protocol error (2026-11-24T20:27:19.511Z)'),
      "Protocol error: what listens there is not a gRPC server (is it the coordinator's --port, not its --metrics-port?)",
    );
  });

  it('keeps a resolution note when there is one, alone when there was no socket error', () => {
    assert.equal(connectionFailure('No connection established. Last error: null. Resolution note: DNS resolution failed for nohost:1'), 'DNS resolution failed for nohost:1');
    assert.equal(connectionFailure('No connection established. Last error: Error: connect EHOSTUNREACH 10.0.0.2:50051. Resolution note: retrying'), 'connect EHOSTUNREACH 10.0.0.2:50051 (retrying)');
  });

  it('leaves any other message as it is', () => {
    assert.equal(connectionFailure('Connection dropped'), 'Connection dropped');
  });
});
