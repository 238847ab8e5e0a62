/**
 * grpc-js words a failed connection as "No connection established. Last
 * error: Error: connect ECONNREFUSED 10.0.0.1:50051. Resolution note: ";
 * users need the middle of it, on a line they can read.
 */
export function connectionFailure(details: string): string {
  const m = /^No connection established\. Last error: (?:Error: )?(.*?)\.? Resolution note: ?(.*)$/s.exec(details);
  if (m === null) return details;
  const [, cause, note] = m;
  if (note.trim() === '') return cause;
  return cause === 'null' ? note.trim() : `${cause} (${note.trim()})`;
}
