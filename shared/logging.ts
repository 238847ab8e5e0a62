import { Writable } from 'node:stream';
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import winston from 'winston';
import { writeLines } from './observability/terminal-lines';

export type LogFormat = 'human' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogContext {
  component: string;
  runId?: string;
  workerId?: string;
}

export type Logger = winston.Logger;

let root: winston.Logger | undefined;

const humanFormat = winston.format.printf((info) => {
  const { level, message, timestamp, component, runId, workerId, ...rest } = info as Record<string, unknown>;
  const tags = [component, workerId].filter(Boolean).join('/');
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  void runId;
  return `${timestamp as string} ${level} [${tags}] ${message as string}${extra}`;
});

/**
 * Sets up the process-wide logger once. Logs go to stderr so that stdout stays
 * for results a script may read (the summary path, `--json` output).
 */
export function configureLogging(options: { level?: LogLevel; format?: LogFormat } = {}): void {
  const format =
    options.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss' }),
          ...(process.stderr.isTTY === true ? [winston.format.colorize()] : []),
          humanFormat,
        );
  root = winston.createLogger({
    level: options.level ?? 'info',
    format,
    transports: [new winston.transports.Stream({ stream: new Writable({ write: (chunk: Buffer, _encoding, done) => (writeLines(chunk.toString('utf8')), done()) }) })],
  });
  routeGrpcLogs(root.child({ component: 'grpc' }));
}

/**
 * grpc-js prints its own lines to stderr (`E No address added out of total 1
 * resolved` beside our `cannot listen on ...: EADDRINUSE`). What it reports
 * also reaches us as a failed call or listen, which gradfleet says in its own
 * words, so its lines go to debug, in our format (GRPC_VERBOSITY and
 * GRPC_TRACE still choose which lines grpc-js emits).
 */
function routeGrpcLogs(log: winston.Logger): void {
  const debug = (message?: unknown, ...rest: unknown[]) => log.debug(format(message, ...rest));
  grpc.setLogger({ error: debug, info: debug, debug });
}

/** A logger tagged with its component, as in `{component: 'scheduler', runId}`. */
export function getLogger(context: LogContext): Logger {
  if (root === undefined) configureLogging({ level: 'warn' });
  return root!.child(context);
}

/** Adds a destination for every log entry (tests that must see what was logged); returns its removal. */
export function addLogTransport(transport: winston.transport): () => void {
  if (root === undefined) configureLogging({ level: 'warn' });
  const logger = root!;
  logger.add(transport);
  return () => logger.remove(transport);
}
