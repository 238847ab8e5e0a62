/**
 * grpc-js honours `grpc-node.flow_control_window` on channels only; its
 * server always advertises Node's 64 KiB HTTP/2 window (grpc/grpc-node PR
 * #3058, open as of grpc-js 1.14.7). Gradients flow towards the server, so
 * this widens the server's windows the way the client does it: a larger
 * SETTINGS_INITIAL_WINDOW_SIZE for streams, and setLocalWindowSize for each
 * connection; and it accepts larger frames. Both reach into grpc-js's private fields; if a future version
 * renames them, the server keeps working with the narrow window and says so.
 */
import type * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../shared/logging';

interface ServerInternals {
  commonServerOptions?: { settings?: http2.Settings };
  http2Servers?: Map<http2.Http2Server | http2.Http2SecureServer, unknown>;
}

/**
 * Largest DATA frame workers may send: a whole 1 MiB tensor chunk in one
 * frame instead of 64 frames of Node's default 16 KiB, each an event on the
 * coordinator's loop (0.5-1 ms per 1 MiB gradient, measured with mlp).
 */
export const MAX_FRAME_BYTES = 2 * 2 ** 20;

/** Call before bindAsync: new connections are offered the wider per-stream window and larger frames. */
export function widenStreamWindow(server: grpc.Server, bytes: number, log: Logger): void {
  const internals = server as unknown as ServerInternals;
  if (internals.commonServerOptions === undefined) {
    log.warn('this grpc-js version hides its server options: HTTP/2 windows stay at 64 KiB (slower transfers, same results)');
    return;
  }
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: bytes, maxFrameSize: MAX_FRAME_BYTES };
}

/** Call after bindAsync: each new connection gets the wider connection-level window. */
export function widenConnectionWindows(server: grpc.Server, bytes: number, log: Logger): void {
  const servers = (server as unknown as ServerInternals).http2Servers;
  if (servers === undefined) {
    log.warn('this grpc-js version hides its HTTP/2 servers: connection windows stay at 64 KiB (slower transfers, same results)');
    return;
  }
  for (const h2 of servers.keys()) {
    h2.on('session', (session: http2.ServerHttp2Session) => session.once('localSettings', () => session.setLocalWindowSize(bytes)));
  }
}
