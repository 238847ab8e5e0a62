/**
 * A timeline file in the Trace Event Format's JSON array form, viewable in
 * chrome://tracing or ui.perfetto.dev (Horovod's timeline uses the same
 * format). Events are appended as they happen; the closing bracket is
 * written when the run ends, and the viewers accept a file without it, so
 * a crashed run still leaves a readable trace. A restarted run appends to
 * the same file, keeping each process's and thread's id, so a worker's
 * rows continue where they were. One event per line keeps that simple.
 */
import * as fs from 'node:fs';

export interface TraceSpan {
  name: string;
  /** A row group in the viewer (a machine's process), e.g. "coordinator" or "worker w1". */
  process: string;
  /** A row inside it. */
  thread: string;
  /** clockMs() times. */
  start: number;
  end: number;
  args?: Record<string, unknown>;
}

interface TraceEvent {
  name?: string;
  ph?: string;
  pid?: number;
  tid?: number;
  args?: { name?: string };
}

/** One line of the file as an event (lines start with the comma that separates them), or undefined. */
function parseLine(line: string): TraceEvent | undefined {
  try {
    return JSON.parse(line.replace(/^,/, '')) as TraceEvent;
  } catch {
    return undefined;
  }
}

export class ChromeTrace {
  private readonly ids = new Map<string, number>();
  private nextId = 1;
  private pending: string[] = [];
  private empty: boolean;
  /** Whether the file holds its opening bracket (it may hold something else, to be replaced, until then). */
  private started = true;
  private closed = false;

  /** `onWriteError`: the trace stops at a failed write (a full disk, say); training must not. */
  constructor(
    readonly file: string,
    private readonly onWriteError: (err: Error) => void = () => undefined,
  ) {
    const lines = (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').split('\n');
    // Keep the opening bracket and whole events: drop a closing bracket, and a line a crash cut short.
    while (lines.length > 0 && lines[lines.length - 1].trim() !== '[' && parseLine(lines[lines.length - 1]) === undefined) lines.pop();
    if (lines.length === 0) {
      // Created at the first event: a coordinator that fails to start leaves no empty trace behind.
      this.started = false;
      this.empty = true;
      return;
    }
    const body = lines.join('\n');
    if (Buffer.byteLength(body) !== fs.statSync(file).size) fs.truncateSync(file, Buffer.byteLength(body));
    this.empty = lines.length === 1;
    this.restoreIds(lines);
  }

  private restoreIds(lines: string[]): void {
    const processes = new Map<number, string>();
    for (const line of lines) {
      if (!line.includes('"ph":"M"')) continue;
      const e = parseLine(line);
      if (e?.pid === undefined || e.args?.name === undefined) continue;
      if (e.name === 'process_name') {
        processes.set(e.pid, e.args.name);
        this.ids.set(e.args.name, e.pid);
      } else if (e.name === 'thread_name' && e.tid !== undefined && processes.has(e.pid)) {
        this.ids.set(`${processes.get(e.pid)}\u0000${e.args.name}`, e.tid);
      }
      this.nextId = Math.max(this.nextId, e.pid + 1, (e.tid ?? 0) + 1);
    }
  }

  span(s: TraceSpan): void {
    if (this.closed) return;
    const pid = this.id(s.process, () => [
      { name: 'process_name', ph: 'M', pid: this.ids.get(s.process), args: { name: s.process } },
      { name: 'process_sort_index', ph: 'M', pid: this.ids.get(s.process), args: { sort_index: this.ids.get(s.process) } },
    ]);
    const key = `${s.process}\u0000${s.thread}`;
    const tid = this.id(key, () => [{ name: 'thread_name', ph: 'M', pid, tid: this.ids.get(key), args: { name: s.thread } }]);
    const ts = Math.round(s.start * 1000);
    this.push({ name: s.name, cat: 'gradfleet', ph: 'X', ts, dur: Math.max(0, Math.round(s.end * 1000) - ts), pid, tid, ...(s.args && { args: s.args }) });
  }

  /** Writes what has been recorded so far. */
  flush(): void {
    this.append(this.pending.join(''));
    this.pending = [];
  }

  /** Flushes and closes the JSON array; later spans are dropped. */
  close(): void {
    this.flush();
    if (this.started) this.append('\n]\n');
    this.closed = true;
  }

  private append(text: string): void {
    if (this.closed || text === '') return;
    try {
      if (this.started) fs.appendFileSync(this.file, text);
      else fs.writeFileSync(this.file, `[${text}`);
      this.started = true;
    } catch (err) {
      this.closed = true;
      this.onWriteError(err as Error);
    }
  }

  /** The id of a process or thread, announcing its name the first time it is used. */
  private id(key: string, announce: () => object[]): number {
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    this.ids.set(key, this.nextId++);
    for (const m of announce()) this.push(m);
    return this.ids.get(key)!;
  }

  private push(event: object): void {
    // Comma first: a line a crash cut short can be dropped without touching the line before it.
    this.pending.push(`${this.empty ? '\n' : '\n,'}${JSON.stringify(event)}`);
    this.empty = false;
  }
}

/** Reads a trace file the way the viewers do: a missing closing bracket is fine. */
export function readChromeTrace(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, 'utf8').trim();
  return JSON.parse(text.endsWith(']') ? text : `${text}]`) as Record<string, unknown>[];
}
