/**
 * A timeline file in the Trace Event Format's JSON array form, viewable in
 * chrome://tracing or ui.perfetto.dev (Horovod's timeline uses the same
 * format). Events are appended as they happen; the closing bracket is
 * written when the run ends, and the viewers accept a file without it, so
 * a crashed run still leaves a readable trace. A resumed run appends to
 * the same file.
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

export class ChromeTrace {
  private readonly ids = new Map<string, number>();
  private pending: string[] = [];
  private empty: boolean;
  private closed = false;

  constructor(readonly file: string) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const closed = /\]\s*$/.exec(text);
    const body = closed === null ? text : text.slice(0, closed.index);
    if (body.trim() === '') fs.writeFileSync(file, '[');
    else if (closed !== null) fs.truncateSync(file, Buffer.byteLength(body));
    this.empty = body.trim() === '' || body.trim() === '[';
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
    if (this.pending.length === 0) return;
    fs.appendFileSync(this.file, this.pending.join(''));
    this.pending = [];
  }

  /** Flushes and closes the JSON array; later spans are dropped. */
  close(): void {
    if (this.closed) return;
    this.flush();
    fs.appendFileSync(this.file, '\n]\n');
    this.closed = true;
  }

  /** The id of a process or thread, announcing its name the first time it is used. */
  private id(key: string, announce: () => object[]): number {
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    this.ids.set(key, this.ids.size + 1);
    for (const m of announce()) this.push(m);
    return this.ids.get(key)!;
  }

  private push(event: object): void {
    this.pending.push(`${this.empty ? '\n' : ',\n'}${JSON.stringify(event)}`);
    this.empty = false;
  }
}

/** Reads a trace file the way the viewers do: a missing closing bracket is fine. */
export function readChromeTrace(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, 'utf8').trim();
  return JSON.parse(text.endsWith(']') ? text : `${text}]`) as Record<string, unknown>[];
}
