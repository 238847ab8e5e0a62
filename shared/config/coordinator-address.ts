/** The `--coordinator HOST:PORT` a worker or `status` dials, checked before anything is dialled. */
import { ConfigError } from '../errors';

/**
 * The address as given, or a ConfigError naming what is wrong with it. A
 * malformed address is the user's to fix; without this check gRPC reads a
 * missing port as 443 or a name it cannot resolve, and a worker would
 * retry it forever.
 */
export function checkCoordinatorAddress(address: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d+)$/.exec(address);
  const port = m === null ? NaN : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) {
    throw new ConfigError(`--coordinator: '${address}' is not HOST:PORT with a port from 1 to 65535 (e.g. 10.0.0.5:50051 or [::1]:50051)`);
  }
  return address;
}
