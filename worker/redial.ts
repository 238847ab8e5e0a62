/**
 * How a worker's channel finds a coordinator that went away. gRPC's channel
 * keeps a reconnection backoff of its own (1 s, growing by 1.6× to 120 s)
 * and fails calls at once while it runs: left at its defaults, a worker
 * found a coordinator back after a 2.5-minute outage 102 s late. Here the
 * channel tries a connection at least once a second (a refused or
 * unanswered TCP dial costs the coordinator nothing), and a worker waiting
 * out its backoff between sessions dials as soon as one succeeds.
 */
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS } from '../shared/wire/protocol';
import type { BackoffPolicy } from './backoff';

/** The longest the channel waits between connection attempts to a coordinator that is away. */
export const MAX_CONNECT_RETRY_MS = 1_000;

export function redialChannelOptions(reconnect: BackoffPolicy): grpc.ChannelOptions {
  return {
    ...CHANNEL_OPTIONS,
    'grpc.initial_reconnect_backoff_ms': Math.min(reconnect.initialMs, MAX_CONNECT_RETRY_MS),
    'grpc.max_reconnect_backoff_ms': Math.min(reconnect.maxMs, MAX_CONNECT_RETRY_MS),
  };
}

/**
 * Waits out a backoff delay. Only a channel that was down may cut it short by connecting: a session
 * that failed on a live connection (a refusal, the coordinator's join rate limit) waits the full delay.
 */
export function pauseBeforeRedial(client: Pick<grpc.Client, 'getChannel' | 'waitForReady'>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY) setTimeout(resolve, ms);
    else client.waitForReady(Date.now() + ms, () => resolve());
  });
}
