import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChromeTrace, readChromeTrace } from '../../../../shared/observability/chrome-trace';
import { tmpDir } from '../../../helpers/tmp';

const span = (name: string, start: number) => ({ name, process: 'coordinator', thread: 'steps', start, end: start + 2.5 });

describe('trace.json (Trace Event Format)', () => {
  it('names each process and thread once, and times spans in microseconds', () => {
    const file = path.join(tmpDir(), 'trace.json');
    const trace = new ChromeTrace(file);
    trace.span(span('step 0', 1000));
    trace.span({ ...span('compute gradient', 1001), process: 'worker w1', thread: 'work' });
    trace.span(span('step 1', 1010));
    trace.close();
    const events = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>[];
    const names = events.filter((e) => e.ph === 'M' && e.name !== 'process_sort_index').map((e) => (e.args as { name: string }).name);
    assert.deepEqual(names, ['coordinator', 'steps', 'worker w1', 'work']);
    const spans = events.filter((e) => e.ph === 'X');
    assert.deepEqual(
      spans.map((e) => [e.name, e.ts, e.dur]),
      [
        ['step 0', 1_000_000, 2500],
        ['compute gradient', 1_001_000, 2500],
        ['step 1', 1_010_000, 2500],
      ],
    );
    assert.notEqual(spans[0].pid, spans[1].pid);
  });

  it('is readable as the viewers read it after a crash (no closing bracket), and a restarted run appends to it', () => {
    const file = path.join(tmpDir(), 'trace.json');
    const first = new ChromeTrace(file);
    first.span(span('step 0', 1000));
    first.flush(); // the process dies here
    assert.deepEqual(readChromeTrace(file).filter((e) => e.ph === 'X').map((e) => e.name), ['step 0']);
    const second = new ChromeTrace(file);
    second.span(span('step 1', 2000));
    second.close();
    const third = new ChromeTrace(file);
    third.span(span('step 2', 3000));
    third.close();
    const events = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>[];
    assert.deepEqual(events.filter((e) => e.ph === 'X').map((e) => e.name), ['step 0', 'step 1', 'step 2']);
  });

  it("keeps a process's and thread's ids when a restarted run appends, and drops an event a crash cut short", () => {
    const file = path.join(tmpDir(), 'trace.json');
    const first = new ChromeTrace(file);
    first.span(span('step 0', 1000));
    first.span({ ...span('compute gradient', 1001), process: 'worker w2', thread: 'work' });
    first.flush();
    fs.appendFileSync(file, '\n,{"name":"step 1","ph":"X","ts":20'); // the process died mid-write
    const second = new ChromeTrace(file);
    second.span({ ...span('compute gradient', 3001), process: 'worker w1', thread: 'work' });
    second.span({ ...span('compute gradient', 3002), process: 'worker w2', thread: 'work' });
    second.close();
    const events = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; ph: string; pid: number; tid: number; ts: number }[];
    const computed = events.filter((e) => e.name === 'compute gradient');
    const [w2Before, w1, w2After] = computed;
    assert.deepEqual([w2After.pid, w2After.tid], [w2Before.pid, w2Before.tid]);
    assert.notEqual(w1.pid, w2Before.pid);
    assert.equal(new Set(events.filter((e) => e.name === 'process_name').map((e) => e.pid)).size, 3);
    assert.ok(!events.some((e) => e.name === 'step 1'));
  });

  it('stops at a failed write and says so once, without throwing', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'trace.json');
    const errors: string[] = [];
    const trace = new ChromeTrace(file, (err) => errors.push(err.message));
    fs.mkdirSync(file); // writing to a directory fails, as to a full disk
    trace.span(span('step 0', 1000));
    trace.flush();
    trace.span(span('step 1', 2000));
    trace.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0], /EISDIR/);
  });

  it('creates no file until the first event: a coordinator that fails to start leaves no empty trace', () => {
    const file = path.join(tmpDir(), 'trace.json');
    new ChromeTrace(file).close();
    assert.equal(fs.existsSync(file), false);
  });

  it('replaces a file that holds no trace at its first event', () => {
    const file = path.join(tmpDir(), 'trace.json');
    fs.writeFileSync(file, 'not a trace');
    const trace = new ChromeTrace(file);
    trace.span(span('step 0', 1000));
    trace.close();
    assert.deepEqual(readChromeTrace(file).filter((e) => e.ph === 'X').map((e) => e.name), ['step 0']);
  });
});
