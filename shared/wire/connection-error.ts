/**
 * grpc-js words a failed connection as "No connection established. Last
 * error: Error: connect ECONNREFUSED 10.0.0.1:50051. Resolution note: ";
 * users need the middle of it, on a line they can read.
 */
export function connectionFailure(details: string): string {
  const m = /^No connection established\. Last error: (?:Error: )?(.*?)\.? Resolution note: ?(.*)$/s.exec(details);
  const [cause, note] = m === null ? [details, ''] : [m[1], m[2].trim()];
  const said = explained(withoutTimestamp(cause));
  if (note === '') return said;
  return cause === 'null' ? note : `${said} (${note})`;
}

/**
 * grpc-js stamps an HTTP/2 session's error with the time it happened
 * (`read ECONNRESET (2026-11-24T16:03:14.470Z)`); the log line has its own,
 * and the same failure must read the same at every dial for the worker's
 * outage log to tell a new cause from a repeated one.
 */
function withoutTimestamp(cause: string): string {
  return cause.replace(/ \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\)$/, '');
}

/** Node's HTTP/2 client says only "Protocol error" when the server answers in HTTP/1 (a web server, the dashboard's port). */
function explained(cause: string): string {
  return cause === 'Protocol error' ? 'Protocol error: what listens there is not a gRPC server (is it the coordinator\'s --port, not its --metrics-port?)' : cause;
}
