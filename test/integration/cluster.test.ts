/**
 * The cluster as users run it: a coordinator and workers in separate
 * processes on loopback. With the same seed and no dropout, any number of
 * workers ends with the weights of one-process training.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CLI, runCli } from '../helpers/cli';
import { readSummary } from '../../shared/training/run-summary';
import { exitOf, startCoordinatorProcess, waitForStep } from '../helpers/processes';
import { maxAbsDiff } from '../helpers/backends';
import { tmpDir } from '../helpers/tmp';
import { savedWeights } from '../helpers/weights-file';

const COMMON = ['--model', 'keras-cnn', '--max-steps', '20', '--epochs', '1', '--ema-decay', '0', '--seed', '7', '--backend', 'wasm'];

describe('the cluster matches one-process training', function () {
  this.timeout(600_000);
  const root = tmpDir();
  let reference: Float32Array;

  before(() => {
    const r = runCli(['baseline', ...COMMON, '--run-dir', path.join(root, 'baseline')]);
    assert.equal(r.code, 0, r.stderr);
    reference = savedWeights(path.join(root, 'baseline', 'model'));
  });

  // auto: 20 steps are 5 of warm-up and 15 of its trial, the two modes alternating step by step.
  const cases: [number, 'streamed' | 'whole', 'together' | 'staggered' | 'auto'][] = [
    [1, 'streamed', 'together'],
    [2, 'streamed', 'together'],
    [3, 'streamed', 'together'],
    [2, 'whole', 'together'],
    [3, 'streamed', 'staggered'],
    [2, 'streamed', 'auto'],
  ];
  for (const [workers, parts, broadcast] of cases) {
    it(`with ${workers} worker process(es), ${parts} gradients, weights sent ${broadcast}: the weights after 20 steps are within 1e-4 of baseline`, () => {
      const runDir = path.join(root, `local-${workers}-${parts}-${broadcast}`);
      const r = runCli(['local', '--workers', String(workers), '--gradient-parts', parts, '--broadcast', broadcast, ...COMMON, '--log-level', 'debug', '--run-dir', runDir]);
      assert.equal(r.code, 0, r.stderr);
      if (broadcast === 'staggered') {
        // Every step but the last worker's waits for a word from each worker before it. A busy host
        // can make a turn time out now and then (they are logged at debug level); most turns pass on
        // the worker's word, all of them would time out if the word never came through.
        const turns = 20 * (workers - 1);
        const timedOut = r.stderr.match(/has not said it holds weights/g)?.length ?? 0;
        assert.ok(timedOut < turns / 2, `${timedOut} of ${turns} turns timed out`);
      }
      const s = readSummary(runDir);
      // Scripts tell a `local` run from a bare coordinator's by these.
      assert.equal(s.command, 'local');
      assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).command, 'local');
      assert.equal(s.steps_run, 20);
      assert.equal(s.workers, workers);
      assert.equal(s.broadcast, broadcast);
      assert.ok((s.coordinator_cpu_ms as number) > 0, `coordinator_cpu_ms ${String(s.coordinator_cpu_ms)}`);
      const diff = maxAbsDiff(savedWeights(path.join(runDir, 'model')), reference);
      assert.ok(diff <= 1e-4, `max abs difference ${diff}`);
    });
  }

  it('validates each epoch on the workers, with the weight EMA, exactly as one process does', () => {
    const args = ['--model', 'mlp', '--epochs', '2', '--ema-decay', '0.99', '--micro-batch', '16', '--seed', '3', '--backend', 'wasm'];
    const base = path.join(root, 'baseline-validation');
    assert.equal(runCli(['baseline', ...args, '--run-dir', base]).code, 0);
    const runDir = path.join(root, 'local-validation');
    const r = runCli(['local', '--workers', '2', ...args, '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/validated 800 samples on 2 worker\(s\) with the weight EMA/g)?.length, 2, r.stderr);
    const [got, want] = [readSummary(runDir).history, readSummary(base).history];
    assert.equal(got.length, 2);
    got.forEach((e, i) => {
      assert.equal(e.val_accuracy, want[i].val_accuracy, `epoch ${e.epoch}`);
      assert.ok(Math.abs(e.val_loss - want[i].val_loss) < 1e-6, `epoch ${e.epoch}: ${e.val_loss} vs ${want[i].val_loss}`);
    });
  });

  it('with --micro-batch (deterministic sums), 1 and 3 workers end bit for bit on the baseline weights', () => {
    const deterministic = [...COMMON, '--micro-batch', '16'];
    const base = path.join(root, 'baseline-deterministic');
    assert.equal(runCli(['baseline', ...deterministic, '--run-dir', base]).code, 0);
    for (const workers of [1, 3]) {
      const runDir = path.join(root, `local-deterministic-${workers}`);
      const r = runCli(['local', '--workers', String(workers), ...deterministic, '--run-dir', runDir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(maxAbsDiff(savedWeights(path.join(runDir, 'model')), savedWeights(path.join(base, 'model'))), 0, `${workers} worker(s)`);
    }
  });
});

describe('compression on the wire (--compress)', function () {
  this.timeout(600_000);
  // Equal shards: no throughput-dependent split, so each run's float rounding, and its accuracy, is the same every time.
  const args = ['--model', 'mlp', '--epochs', '2', '--ema-decay', '0', '--seed', '5', '--backend', 'wasm', '--shard-sizing', 'equal'];
  const run = (compress: string) => {
    const runDir = path.join(tmpDir(), compress);
    // Streamed: top-k keeps its residuals per tensor, part by part.
    const r = runCli(['local', '--workers', '2', '--gradient-parts', 'streamed', '--compress', compress, ...args, '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    const s = readSummary(runDir) as unknown as Record<string, number>;
    process.stderr.write(`      ${compress}: test accuracy ${s.test_accuracy}\n`);
    return { accuracy: s.test_accuracy, bytesPerStep: (s.bytes_sent + s.bytes_received) / s.steps_run };
  };
  let plain: ReturnType<typeof run>;
  before(() => (plain = run('none')));

  it('fp16: half the bytes of float32, the same accuracy within a point', () => {
    const half = run('fp16');
    assert.ok(half.bytesPerStep <= 0.51 * plain.bytesPerStep, `${half.bytesPerStep} vs ${plain.bytesPerStep} bytes per step`);
    assert.ok(Math.abs(half.accuracy - plain.accuracy) <= 0.01, `${half.accuracy} vs ${plain.accuracy}`);
  });

  it('topk: 1% of the gradient entries and fp16 weight changes, about a quarter of the bytes, and it still learns', () => {
    const sparse = run('topk');
    assert.ok(sparse.bytesPerStep <= 0.28 * plain.bytesPerStep, `${sparse.bytesPerStep} vs ${plain.bytesPerStep} bytes per step`);
    // Error feedback delays most of each gradient by a few steps: 2 epochs land within a few points of float32 (here ~2).
    assert.ok(sparse.accuracy >= plain.accuracy - 0.04, `${sparse.accuracy} vs ${plain.accuracy}`);
  });
});

describe('the timeline of a cluster run (trace.json)', function () {
  this.timeout(600_000);

  it("shows every step on the coordinator and each worker's phases inside it, on the coordinator's clock", () => {
    const runDir = path.join(tmpDir(), 'run');
    const r = runCli(['local', '--workers', '2', '--gradient-parts', 'streamed', '--model', 'mlp', '--epochs', '1', '--batch-size', '512', '--ema-decay', '0', '--backend', 'wasm', '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    const events = JSON.parse(fs.readFileSync(path.join(runDir, 'trace.json'), 'utf8')) as { name: string; ph: string; pid: number; ts: number; dur: number; args?: { step?: number; name?: string } }[];
    const processes = new Map(events.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name!]));
    assert.deepEqual([...processes.values()].sort(), ['coordinator', 'worker w1', 'worker w2']);
    const steps = readSummary(runDir).steps_run as number;
    assert.equal(steps, 15); // 7,200 training images in batches of 512
    for (let step = 0; step < steps; step++) {
      const span = events.find((e) => e.name === `step ${step}`);
      assert.ok(span !== undefined, `no span for step ${step}`);
      const computed = events.filter((e) => e.name === 'compute gradient' && e.args?.step === step);
      assert.deepEqual(computed.map((e) => processes.get(e.pid)).sort(), ['worker w1', 'worker w2'], `step ${step}`);
      for (const c of computed) assert.ok(c.ts >= span.ts && c.ts + c.dur <= span.ts + span.dur, `step ${step}: ${processes.get(c.pid)} computed outside the step`);
      // mlp's gradient goes in two parts (the last two layers, then the first); the update applies the
      // first part of both shards while the first layer's gradient is still on its way.
      const parts = events.filter((e) => e.name === 'gradient part (4 tensors) → coordinator' && e.args?.step === step);
      assert.deepEqual(parts.map((e) => processes.get(e.pid)).sort(), ['worker w1', 'worker w2'], `step ${step}: parts`);
      const inStep = (name: string) => events.filter((e) => e.name === name && processes.get(e.pid) === 'coordinator' && e.ts >= span.ts && e.ts + e.dur <= span.ts + span.dur);
      const [early, apply] = [inStep('update and send 4 tensor(s) early'), inStep('apply')];
      assert.equal(early.length, 1, `step ${step}: early updates`);
      assert.ok(early[0].ts + early[0].dur <= apply[0].ts, `step ${step}: the early update comes before the last one`);
    }
    assert.equal(events.filter((e) => e.name === 'validate' && processes.get(e.pid)?.startsWith('worker')).length, 2);
    const phases = readSummary(runDir).phases_ms as Record<string, number>;
    assert.ok(phases.compute > 0 && phases.apply > 0, JSON.stringify(phases));
  });
});

describe('--gradient-parts whole', function () {
  this.timeout(600_000);

  it('sends each shard’s gradient in one piece, and applies nothing before the last one is in', () => {
    const runDir = path.join(tmpDir(), 'run');
    const r = runCli(['local', '--workers', '2', '--gradient-parts', 'whole', '--model', 'mlp', '--epochs', '1', '--max-steps', '5', '--batch-size', '512', '--ema-decay', '0', '--backend', 'wasm', '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    const names = (JSON.parse(fs.readFileSync(path.join(runDir, 'trace.json'), 'utf8')) as { name: string }[]).map((e) => e.name);
    assert.equal(names.filter((n) => n === 'gradient → coordinator').length, 10);
    assert.deepEqual(names.filter((n) => /gradient part|early/.test(n)), []);
  });
});

describe('gradfleet coordinator and gradfleet worker as separate processes', function () {
  this.timeout(600_000);

  it('train together, report live status, and end with a summary', async () => {
    const runDir = path.join(tmpDir(), 'run');
    const { child: coordinator, port, stdout } = await startCoordinatorProcess(['--port', '0', '--model', 'mlp', '--epochs', '2', '--min-workers', '2', '--backend', 'wasm', '--run-dir', runDir, '--run-id', 'proc-test']);
    const workers = [1, 2].map((i) =>
      // The second picks its backend itself (--backend auto).
      spawn(process.execPath, [CLI, 'worker', '--coordinator', `127.0.0.1:${port}`, ...(i === 1 ? ['--backend', 'wasm'] : []), '--name', `proc-${i}`, '--cache-dir', path.join(runDir, `cache-${i}`)], { stdio: 'ignore' }),
    );
    let status: { workers: { name: string; backend: string; silentMs: number }[]; state: string } | undefined;
    for (let i = 0; i < 100 && (status === undefined || status.workers.length < 2); i++) {
      await new Promise((r) => setTimeout(r, 200));
      const r = runCli(['status', '--coordinator', `127.0.0.1:${port}`, '--json']);
      if (r.code === 0) status = JSON.parse(r.stdout);
    }
    assert.deepEqual(status!.workers.map((w) => w.name).sort(), ['proc-1', 'proc-2']);
    // What runs, not what was asked for.
    const backends = Object.fromEntries(status!.workers.map((w) => [w.name, w.backend]));
    assert.equal(backends['proc-1'], 'wasm');
    assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(backends['proc-2']), backends['proc-2']);
    // Heard from within the heartbeat timeout, counted by the coordinator's clock.
    for (const w of status!.workers) assert.ok(w.silentMs >= 0 && w.silentMs < 8000, `${w.name} silent for ${w.silentMs} ms`);
    assert.equal(await exitOf(coordinator), 0);
    assert.deepEqual(await Promise.all(workers.map(exitOf)), [0, 0]);
    assert.equal(stdout[stdout.length - 1], path.join(runDir, 'summary.json'));
    const s = readSummary(runDir);
    assert.equal(s.command, 'coordinator');
    assert.equal(s.workers, 2);
    assert.ok((s.test_accuracy as number) > 0.85);
  });

  it('a worker stopped with SIGTERM leaves the run with exit code 130 and one line, and the coordinator goes on', async () => {
    const runDir = path.join(tmpDir(), 'run');
    const { child: coordinator, port } = await startCoordinatorProcess(['--port', '0', '--model', 'mlp', '--epochs', '50', '--backend', 'wasm', '--run-dir', runDir]);
    try {
      const worker = spawn(process.execPath, [CLI, 'worker', '--coordinator', `127.0.0.1:${port}`, '--backend', 'wasm', '--cache-dir', path.join(runDir, 'cache')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      worker.stderr!.on('data', (d) => (stderr += d));
      await waitForStep(port, 1);
      worker.kill('SIGTERM');
      assert.equal(await exitOf(worker), 130);
      assert.equal(stderr.trim().split('\n').at(-1), 'gradfleet: stopped: interrupted; this worker has left its run (start it again to rejoin)');
      assert.equal(coordinator.exitCode, null, 'the coordinator waits for workers');
    } finally {
      coordinator.kill('SIGINT');
      await exitOf(coordinator);
    }
  });

  it('`gradfleet status` with no coordinator there fails with one line', () => {
    const r = runCli(['status', '--coordinator', '127.0.0.1:9']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no coordinator answered at 127\.0\.0\.1:9/);
  });
});

/** Child processes of `pid` (a `local` run's workers), from /proc. */
function childPids(pid: number): string[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(' ')[3] === String(pid);
      } catch {
        return false;
      }
    });
}

/** `gradfleet local` started with ARGS; `ready` resolves once both workers joined and a checkpoint exists. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** `detached`: local leads a process group of its own with its workers, as a shell's job does, for signals sent to the group. */
function startLocal(args: string[], { detached = false } = {}) {
  const runDir = path.join(tmpDir(), 'run');
  const child = spawn(process.execPath, [CLI, 'local', '--workers', '2', '--checkpoint-every', '5', '--backend', 'wasm', '--run-dir', runDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const ready = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if ((log.match(/joined run/g) ?? []).length >= 2 && fs.existsSync(path.join(runDir, 'checkpoints', 'latest'))) {
        clearInterval(poll);
        resolve();
      }
    }, 100);
    // A run that ends before it is ready (or whose log is quiet) must not leave the poll keeping the test process alive.
    child.once('exit', () => clearInterval(poll));
  });
  return { child, runDir, ready, log: () => log };
}

const STOPPED_HINT = / the newest checkpoint is (\S+) \(step (\d+)\); continue the run with the same options and --run-dir (\S+) --resume auto$/;

describe('gradfleet local: Ctrl-C and dying workers', function () {
  this.timeout(120_000);

  it('SIGINT stops the coordinator and every worker process, exit code 130 and one line that says how to continue', async () => {
    const local = startLocal(['--model', 'keras-cnn', '--epochs', '50']);
    await local.ready;
    assert.equal(childPids(local.child.pid!).length, 2);
    local.child.kill('SIGINT');
    assert.equal(await exitOf(local.child), 130);
    const log = local.log();
    assert.match(log, /interrupted: stopping the coordinator and workers/);
    const last = new RegExp(`^gradfleet: stopped: interrupted;${STOPPED_HINT.source}`, 'm').exec(log);
    assert.ok(last, log.slice(-2000));
    assert.equal(last[1], path.join(local.runDir, 'checkpoints', `ckpt-${last[2]}`));
    assert.equal(last[3], local.runDir);
    assert.doesNotMatch(log, /no worker left|reassigning/, 'workers leaving a stopped run are not lost ones');
    assert.doesNotMatch(log, /^\s+at /m, 'no stack trace');
    assert.deepEqual(childPids(local.child.pid!), []);
  });

  it('Ctrl-C in a terminal (SIGINT to local and its workers at once) stops the run as cleanly as SIGINT to local alone', async () => {
    const local = startLocal(['--model', 'mlp', '--epochs', '50'], { detached: true });
    await local.ready;
    const running = local.log().length;
    // The terminal's SIGINT reaches every process of the group; the workers may well see it first.
    const workers = childPids(local.child.pid!);
    for (const pid of workers) process.kill(Number(pid), 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(childPids(local.child.pid!), workers, 'the workers wait for local');
    process.kill(-local.child.pid!, 'SIGINT');
    assert.equal(await exitOf(local.child), 130);
    const log = local.log();
    assert.match(log, /^gradfleet: stopped: interrupted; the newest checkpoint is /m);
    // Workers leaving on their own would be reported lost (and could be started again) before local stopped the run.
    const stopping = log.slice(running);
    assert.doesNotMatch(stopping, / warn \[coordinator\]|no worker left|training is paused|starting it again/);
    assert.equal((log.match(/\[worker-\d\] gradfleet: stopped: interrupted; this worker has left its run/g) ?? []).length, 2);
    assert.deepEqual(childPids(local.child.pid!), []);
  });

  it('stopped (SIGSTOP) for longer than the heartbeat timeout and shard deadlines and then continued, keeps its workers: the silence was its own', async () => {
    const local = startLocal(['--model', 'mlp', '--epochs', '4', '--heartbeat-timeout', '1', '--min-shard-deadline', '1']);
    await local.ready;
    // local's process alone: its workers go on, and their heartbeats wait in its sockets.
    local.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 4000));
    local.child.kill('SIGCONT');
    assert.equal(await exitOf(local.child), 0, local.log().slice(-2000));
    const log = local.log();
    assert.match(log, /this coordinator did not run for \d+\.\d s \(stopped, suspended or stalled\)/);
    assert.doesNotMatch(log, /missed heartbeats|missed the \d+ ms deadline|rejoining/);
    assert.equal((log.match(/joined run/g) ?? []).length, 2);
  });

  it('listens on the --port it is given, so `gradfleet status` can follow it, and starts once --min-workers of its workers are in', async () => {
    const port = await freePort();
    const local = startLocal(['--model', 'mlp', '--epochs', '50', '--port', String(port), '--min-workers', '1']);
    await local.ready;
    const r = runCli(['status', '--coordinator', `127.0.0.1:${port}`, '--json']);
    local.child.kill('SIGINT');
    assert.equal(await exitOf(local.child), 130);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).state, 'training');
    assert.match(local.log(), new RegExp(`listening on 127\\.0\\.0\\.1:${port} for run \\S+; waiting for 1 worker\\(s\\)`));
  });

  it('starts a killed worker process again, and the run ends normally with both workers', async () => {
    const local = startLocal(['--model', 'mlp', '--epochs', '3', '--max-restarts', '1']);
    await local.ready;
    process.kill(Number(childPids(local.child.pid!)[0]), 'SIGKILL');
    assert.equal(await exitOf(local.child), 0, local.log().slice(-2000));
    assert.match(local.log(), /worker-\d was killed by SIGKILL; starting it again \(restart 1 of --max-restarts 1\)/);
    assert.equal((local.log().match(/joined run/g) ?? []).length, 3);
    assert.equal(readSummary(local.runDir).workers, 2);
  });

  it('stops the run once --max-restarts is spent: exit code 1, one line naming the worker and the checkpoint to continue from', async () => {
    const local = startLocal(['--model', 'mlp', '--epochs', '50', '--max-restarts', '0']);
    await local.ready;
    process.kill(Number(childPids(local.child.pid!)[0]), 'SIGKILL');
    assert.equal(await exitOf(local.child), 1);
    const last = new RegExp(`^gradfleet: failed: worker-\\d was killed by SIGKILL after 0 restart\\(s\\), the most --max-restarts allows;${STOPPED_HINT.source}`, 'm').exec(local.log());
    assert.ok(last, local.log().slice(-2000));
    assert.doesNotMatch(local.log(), /^\s+at /m, 'no stack trace');
    assert.deepEqual(childPids(local.child.pid!), []);
  });

  it('killed outright (SIGKILL), takes its worker processes with it instead of leaving them to redial its dead coordinator for ever', async () => {
    // At --log-level error a worker writes nothing to the closed pipe, which would otherwise end it by chance.
    const local = startLocal(['--model', 'mlp', '--epochs', '50', '--log-level', 'error']);
    while (!fs.existsSync(path.join(local.runDir, 'checkpoints', 'latest'))) await new Promise((resolve) => setTimeout(resolve, 100));
    const workers = childPids(local.child.pid!);
    assert.equal(workers.length, 2);
    local.child.kill('SIGKILL');
    await exitOf(local.child);
    while (workers.some((pid) => fs.existsSync(`/proc/${pid}`))) await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
