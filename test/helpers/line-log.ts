/** Log lines kept in memory, for tests that assert what a component said. */
import winston from 'winston';
import Transport from 'winston-transport';
import type { Logger } from '../../shared/logging';

/** A winston transport that keeps each message, or only those of level `only`. */
export class LineLog extends Transport {
  readonly lines: string[] = [];

  constructor(private readonly only?: string) {
    super();
  }

  override log(info: { level: string; message: string }, next: () => void): void {
    if (this.only === undefined || info.level === this.only) this.lines.push(info.message);
    next();
  }
}

/** A logger that keeps what it is told at `level` and above in `lines`. */
export function lineLogger(level: 'warn' | 'info' | 'debug'): { log: Logger; lines: string[] } {
  const transport = new LineLog();
  return { log: winston.createLogger({ level, transports: [transport] }), lines: transport.lines };
}

/** A logger that keeps the messages of each level apart, for tests that assert what is a warning and what is not. */
export function levelledLogger(): { log: Logger; warn: string[]; info: string[]; debug: string[] } {
  const levels = { warn: new LineLog('warn'), info: new LineLog('info'), debug: new LineLog('debug') };
  const log = winston.createLogger({ level: 'debug', transports: Object.values(levels) });
  return { log, warn: levels.warn.lines, info: levels.info.lines, debug: levels.debug.lines };
}
