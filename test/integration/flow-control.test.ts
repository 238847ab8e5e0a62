/**
 * The coordinator offers workers wide HTTP/2 windows, so a 0.5-13 MB tensor
 * set is not held back by WINDOW_UPDATE round trips (grpc-js servers keep
 * Node's 64 KiB unless told otherwise; see coordinator/grpc/flow-control.ts).
 */
import { strict as assert } from 'node:assert';
import * as http2 from 'node:http2';
import { CoordinatorHandle, startCoordinator } from '../../coordinator/coordinator';
import { MAX_FRAME_BYTES } from '../../coordinator/grpc/flow-control';
import { FLOW_CONTROL_WINDOW } from '../../shared/wire/protocol';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { stopCoordinator } from '../helpers/stop-coordinator';
import { tmpDir } from '../helpers/tmp';

describe('HTTP/2 flow control on the coordinator', function () {
  this.timeout(60_000);
  let coordinator: CoordinatorHandle;

  before(async () => {
    await useBackend('wasm');
    coordinator = await startCoordinator(coordinatorOptionsFor({ model: 'mlp', epochs: '1', backend: 'wasm', runDir: tmpDir(), port: '0' }));
  });

  after(async () => {
    await stopCoordinator(coordinator); // stopped before training: the run ends interrupted
  });

  it(`lets a connecting worker send ${FLOW_CONTROL_WINDOW / 2 ** 20} MiB per stream and per connection before waiting, in frames of up to ${MAX_FRAME_BYTES / 2 ** 20} MiB`, async () => {
    const session = http2.connect(`http://127.0.0.1:${coordinator.port}`);
    try {
      const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
      assert.equal(settings.initialWindowSize, FLOW_CONTROL_WINDOW);
      assert.equal(settings.maxFrameSize, MAX_FRAME_BYTES);
      // The connection window grows with a WINDOW_UPDATE right after the settings exchange.
      for (let i = 0; i < 100 && (session.state.remoteWindowSize ?? 0) < FLOW_CONTROL_WINDOW; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(session.state.remoteWindowSize, FLOW_CONTROL_WINDOW);
    } finally {
      session.close();
    }
  });
});
