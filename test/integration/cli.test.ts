/**
 * The `gradfleet` command as a user runs it: a separate process, its exit
 * code, its one-line errors, and the files it leaves behind.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { IDX_FILES } from '../../shared/data/idx-dataset';
import { CLI, runCli } from '../helpers/cli';
import { exitOf, startCoordinatorProcess } from '../helpers/processes';
import { readSummary, RunSummary } from '../../shared/training/run-summary';
import { writeIdxDataset } from '../helpers/idx-fixtures';
import { tmpDir } from '../helpers/tmp';

function expectOneLineError(r: ReturnType<typeof runCli>, message: RegExp): void {
  assert.equal(r.code, 2, `exit code ${r.code}, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => /error/.test(l));
  assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
  assert.match(lines[0], message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

describe('gradfleet baseline', () => {
  const runDir = path.join(tmpDir(), 'run');
  let summary: RunSummary;

  before(function () {
    this.timeout(300_000);
    const r = runCli(['baseline', '--model', 'mlp', '--epochs', '2', '--backend', 'wasm', '--run-dir', runDir, '--seed', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), path.join(runDir, 'summary.json'));
    summary = readSummary(runDir);
  });

  it('trains and writes summary.json with the fields scripts rely on', () => {
    for (const key of ['test_accuracy', 'test_loss', 'epochs_run', 'best_epoch', 'stopped_early', 'wall_seconds', 'samples_per_second', 'workers', 'backend']) {
      assert.ok(key in summary, `summary.json lacks ${key}`);
    }
    assert.equal(summary.epochs_run, 2);
    assert.equal(summary.backend, 'wasm');
    assert.equal(summary.workers, 1);
    assert.ok((summary.test_accuracy as number) > 0.85, `mlp after 2 epochs: ${summary.test_accuracy}`);
  });

  it('leaves config.json (with the gradfleet version `gradfleet --version` prints), metrics.jsonl and the model in the run directory', () => {
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    const version = runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.equal(config.gradfleet_version, version.stdout.trim());
    assert.equal(config.command, 'baseline');
    const epochs = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'epoch');
    assert.deepEqual(epochs.map((e) => e.epoch), [1, 2]);
    assert.ok(fs.existsSync(path.join(runDir, 'model', 'model.json')));
  });

  it('`gradfleet evaluate` on the saved model reproduces the test accuracy, given the model or the run directory', () => {
    const r = runCli(['evaluate', '--checkpoint', path.join(runDir, 'model'), '--backend', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ofRun = runCli(['evaluate', '--checkpoint', runDir, '--backend', 'wasm', '--json']);
    assert.equal(ofRun.stdout, r.stdout);
    assert.match(ofRun.stderr, new RegExp(`${runDir}: using ${path.join(runDir, 'model')}, the run's final model`));
    const result = JSON.parse(r.stdout);
    assert.equal(result.dataset, 'mnist-sample');
    assert.equal(result.count, 2000);
    assert.ok(Math.abs(result.accuracy - (summary.test_accuracy as number)) < 1e-9);
    const total = (result.confusion as number[][]).flat().reduce((a, b) => a + b, 0);
    assert.equal(total, 2000);
  });

  it('`--init-from` the run directory starts another run from its final model', function () {
    this.timeout(120_000);
    const next = path.join(tmpDir(), 'next');
    // One step at a negligible learning rate: the test accuracy is the first run's, not a fresh model's.
    const r = runCli(['baseline', '--model', 'mlp', '--init-from', runDir, '--epochs', '1', '--max-steps', '1', '--lr', '1e-9', '--ema-decay', '0', '--backend', 'wasm', '--run-dir', next]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${runDir}: using ${path.join(runDir, 'model')}, the run's final model`));
    assert.ok(Math.abs((readSummary(next).test_accuracy as number) - (summary.test_accuracy as number)) < 0.005, `${readSummary(next).test_accuracy} against ${summary.test_accuracy}`);
  });

  it('a plain tf.loadLayersModel script gets the same accuracy from the saved files', () => {
    const script = `
      const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
      const tfl = require('@tensorflow/tfjs-layers'); const fs = require('fs'); const path = require('path');
      const dir = ${JSON.stringify(path.join(runDir, 'model'))};
      const handler = { load: async () => { const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
        const w = fs.readFileSync(path.join(dir, 'weights.bin'));
        return { modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights,
                 weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }; } };
      const { loadMnistSample } = require(${JSON.stringify(path.resolve(__dirname, '../../shared/data/mnist-sample'))});
      (async () => {
        await tf.setBackend('cpu');
        const m = await tfl.loadLayersModel(handler); const d = loadMnistSample();
        const x = tf.tensor4d(Float32Array.from(d.test.images, (v) => v / 255), [d.test.count, 28, 28, 1]);
        const pred = tf.argMax(m.predict(x), 1).dataSync(); let ok = 0;
        for (let i = 0; i < d.test.count; i++) if (pred[i] === d.test.labels[i]) ok++;
        process.stdout.write(String(ok / d.test.count));
      })();`;
    const r = require('node:child_process').spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: path.resolve(__dirname, '../../..') });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Math.abs(Number(r.stdout) - (summary.test_accuracy as number)) < 1e-9, `${r.stdout} vs ${summary.test_accuracy}`);
  });
});

describe('gradfleet baseline with --validation-split 0', () => {
  it('trains on every training image, prints no validation metrics, and picks the best epoch (best/, best_epoch) by the training loss', function () {
    this.timeout(120_000);
    const runDir = path.join(tmpDir(), 'run');
    const r = runCli(['baseline', '--model', 'mlp', '--epochs', '2', '--validation-split', '0', '--backend', 'wasm', '--run-dir', runDir]);
    assert.equal(r.code, 0, r.stderr);
    const epochs = r.stderr.split('\n').filter((l) => / epoch \d\/2: /.test(l));
    assert.equal(epochs.length, 2);
    for (const line of epochs) assert.doesNotMatch(line, /val_|NaN/);
    // 8,000 training images of mnist-sample at batch 64, none held out.
    const summary = readSummary(runDir);
    assert.equal(summary.steps_run, 2 * Math.ceil(8000 / 64));
    const losses = (summary.history as { loss: number }[]).map((e) => e.loss);
    assert.equal(summary.best_epoch, losses.indexOf(Math.min(...losses)) + 1);
    assert.ok(fs.existsSync(path.join(runDir, 'checkpoints', 'best', 'MANIFEST.json')));
  });
});

describe('gradfleet baseline stopped by Ctrl-C, or by its terminal closing', () => {
  for (const signal of ['SIGINT', 'SIGHUP'] as const) it(`${signal}: ends after the step in flight with exit code 130, names the checkpoint to continue from, and gives its run directory up`, async function () {
    this.timeout(120_000);
    const runDir = path.join(tmpDir(), 'run');
    const child = spawn(process.execPath, [CLI, 'baseline', '--model', 'mlp', '--epochs', '50', '--checkpoint-every', '20', '--backend', 'wasm', '--run-dir', runDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    while (!fs.existsSync(path.join(runDir, 'checkpoints', 'latest'))) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill(signal);
    assert.equal(await exitOf(child), 130, stderr);
    const last = stderr.trim().split('\n').at(-1)!;
    assert.match(last, new RegExp(`^gradfleet: stopped: interrupted; the newest checkpoint is ${runDir}/checkpoints/ckpt-\\d+ \\(step \\d+\\); continue the run with the same options and --run-dir ${runDir} --resume auto$`));
    assert.equal(fs.existsSync(path.join(runDir, 'run.lock')), false);
  });
});

describe('gradfleet coordinator and local stopped by Ctrl-C while they start (the dataset loading)', () => {
  for (const command of ['coordinator', 'local'] as const) it(`${command}: exit code 130 and the same last line as later, leaving neither run.lock nor an empty trace behind`, async function () {
    this.timeout(120_000);
    const runDir = path.join(tmpDir(), 'run');
    const args = command === 'local' ? ['local', '--workers', '2'] : ['coordinator', '--port', '0'];
    const child = spawn(process.execPath, [CLI, ...args, '--model', 'mlp', '--backend', 'wasm', '--run-dir', runDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    // The backend is chosen before the dataset loads and the port opens.
    const starting = new Promise<void>((resolve) =>
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (/using backend wasm/.test(stderr)) resolve();
      }),
    );
    await starting;
    child.kill('SIGINT');
    assert.equal(await exitOf(child), 130, stderr);
    assert.match(stderr.trim().split('\n').at(-1)!, /^gradfleet: stopped: interrupted; no checkpoint was written yet/);
    assert.deepEqual(['run.lock', 'trace.json'].filter((f) => fs.existsSync(path.join(runDir, f))), []);
  });
});

describe('gradfleet on bad input: one line naming the problem, exit code 2, no stack trace', () => {
  it('an unknown model', () => expectOneLineError(runCli(['baseline', '--model', 'resnet']), /unknown model 'resnet'/));
  it('an unknown dataset', () => expectOneLineError(runCli(['baseline', '--dataset', 'cifar10']), /unknown dataset 'cifar10'/));
  it('an unknown backend', () => expectOneLineError(runCli(['baseline', '--backend', 'tpu']), /'tpu' is invalid|tpu/));
  it('a negative epoch count', () => expectOneLineError(runCli(['baseline', '--epochs', '-3']), /--epochs .*-3 is below the minimum 1/));
  it('an unknown flag', () => expectOneLineError(runCli(['baseline', '--epoch', '3']), /unknown option '--epoch'/));
  it('a value given to a switch (it would be ignored, and the run would train without a word)', () =>
    expectOneLineError(runCli(['baseline', '--augment', 'yes']), /^gradfleet: error: unexpected argument 'yes': --augment is a switch and takes no value$/m));
  it('a second value after a flag', () => expectOneLineError(runCli(['local', '--epochs', '5', '10']), /^gradfleet: error: unexpected argument '10': gradfleet local takes flags only$/m));
  // Accepted, these commands would wait for ever: the test fails rather than waits.
  const WAITS_FOR_EVER_MS = 60_000;
  it('more workers needed than there can be (training would wait for ever)', () => {
    expectOneLineError(runCli(['coordinator', '--min-workers', '3', '--max-workers', '2'], {}, undefined, WAITS_FOR_EVER_MS), /--min-workers 3 is above --max-workers 2: training would wait for workers the coordinator turns away$/m);
    expectOneLineError(runCli(['local', '--workers', '2', '--min-workers', '3'], {}, undefined, WAITS_FOR_EVER_MS), /--min-workers 3 is above --workers 2: training would wait for workers local never starts$/m);
    expectOneLineError(runCli(['local', '--workers', '2', '--max-workers', '1'], {}, undefined, WAITS_FOR_EVER_MS), /--max-workers 1 is below --workers 2: local would start workers the run turns away$/m);
  });
  it('an address for `local`, whose workers dial loopback', () => expectOneLineError(runCli(['local', '--host', '0.0.0.0']), /unknown option '--host'/));
  it('an argument too many', () => expectOneLineError(runCli(['dataset', 'fetch', 'mnist', 'extra']), /unexpected argument 'extra': gradfleet dataset fetch takes 1 argument\(s\) \(name\)$/m));
  it('early stopping on a validation metric with no validation set (it would never stop)', () =>
    expectOneLineError(runCli(['baseline', '--validation-split', '0', '--early-stopping']), /--early-stopping monitors val_loss, but --validation-split 0 leaves no validation set; give --monitor loss, or a --validation-split above 0$/));

  it('a run directory that cannot be created', () => {
    const file = path.join(tmpDir(), 'not-a-directory');
    fs.writeFileSync(file, '');
    const runDir = path.join(file, 'run');
    expectOneLineError(runCli(['baseline', '--run-dir', runDir, '--epochs', '1']), new RegExp(`--run-dir ${runDir}: cannot create it or write there \\(ENOTDIR`));
  });

  it('a run directory under /proc (where Node’s own mkdir -p never returns)', function () {
    if (!fs.existsSync('/proc/self')) this.skip();
    expectOneLineError(runCli(['baseline', '--run-dir', '/proc/gradfleet/run', '--epochs', '1'], {}, undefined, 60_000), /--run-dir \/proc\/gradfleet\/run: cannot create it or write there \(ENOENT/);
  });

  describe('what a running coordinator holds', () => {
    const runDir = path.join(tmpDir(), 'run');
    let coordinator: Awaited<ReturnType<typeof startCoordinatorProcess>>;

    before(async function () {
      this.timeout(60_000);
      coordinator = await startCoordinatorProcess(['--model', 'mlp', '--epochs', '1', '--port', '0', '--run-dir', runDir]);
    });

    after(() => coordinator.child.kill('SIGKILL'));

    it('its run directory', () =>
      expectOneLineError(runCli(['baseline', '--run-dir', runDir, '--epochs', '1']), new RegExp(`--run-dir ${runDir} is in use by gradfleet coordinator \\(pid ${coordinator.child.pid} on this host, since `)));

    it('its port, with no line from grpc-js beside ours', () => {
      const r = runCli(['coordinator', '--model', 'mlp', '--port', String(coordinator.port), '--run-dir', path.join(tmpDir(), 'run')]);
      expectOneLineError(r, new RegExp(`cannot listen on 127.0.0.1:${coordinator.port}: listen EADDRINUSE: address already in use .*; another program listens there: give another --port`));
      for (const line of r.stderr.trim().split('\n')) assert.match(line, /^(\d\d:\d\d:\d\d \w+ \[|gradfleet: error: )/);
    });

    it('its port, asked for as another coordinator\'s --metrics-port: that one says so and exits instead of hanging with its gRPC port open', function () {
      this.timeout(60_000);
      const r = runCli(['coordinator', '--model', 'mlp', '--port', '0', '--metrics-port', String(coordinator.port), '--run-dir', path.join(tmpDir(), 'run')], {}, undefined, 30_000);
      expectOneLineError(r, new RegExp(`cannot listen on 127.0.0.1:${coordinator.port} for metrics and the dashboard: listen EADDRINUSE`));
    });

    it('its run directory once it is killed: the next run takes it over', async function () {
      this.timeout(120_000);
      coordinator.child.kill('SIGKILL');
      await exitOf(coordinator.child);
      const r = runCli(['baseline', '--model', 'mlp', '--epochs', '1', '--max-steps', '3', '--backend', 'wasm', '--run-dir', runDir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`run\\.lock names gradfleet coordinator \\(pid ${coordinator.child.pid}\\), which is no longer running; taking the run directory over`));
      assert.equal(fs.existsSync(path.join(runDir, 'run.lock')), false, 'the run ended and gave the directory up');
    });
  });

  it('a backend that is not installed', () =>
    expectOneLineError(runCli(['baseline', '--backend', 'tensorflow-gpu', '--epochs', '1']), /backend 'tensorflow-gpu' is unavailable: @tensorflow\/tfjs-node-gpu is not installed/));

  it('a missing IDX file', () => {
    const dir = tmpDir();
    writeIdxDataset(dir, { train: 20, test: 10 });
    fs.rmSync(path.join(dir, IDX_FILES.trainImages));
    expectOneLineError(runCli(['baseline', '--dataset', `idx:${dir}`, '--epochs', '1']), /train-images-idx3-ubyte: file not found/);
  });

  it('a corrupt IDX file', () => {
    const dir = tmpDir();
    writeIdxDataset(dir, { train: 20, test: 10, gzip: true });
    const file = path.join(dir, `${IDX_FILES.testImages}.gz`);
    fs.writeFileSync(file, zlib.gzipSync(Buffer.from([9, 9, 9, 9, 9, 9])));
    expectOneLineError(runCli(['baseline', '--dataset', `idx:${dir}`, '--epochs', '1']), /t10k-images-idx3-ubyte\.gz: not an IDX file/);
  });

  it('an invalid model.json', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, JSON.stringify({ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'NoSuchLayer', config: {} }] } } }));
    expectOneLineError(runCli(['baseline', '--model', file, '--epochs', '1']), /model\.json: invalid model topology/);
    fs.writeFileSync(file, '{not json');
    expectOneLineError(runCli(['baseline', '--model', file, '--epochs', '1']), /model\.json: not valid JSON/);
  });

  it('compression with deterministic sums', () =>
    expectOneLineError(runCli(['local', '--workers', '1', '--compress', 'topk', '--micro-batch', '16', '--epochs', '1']), /--micro-batch \(deterministic sums\) and --compress topk exclude each other/));
  it('a top-k ratio outside (0, 1]', () => expectOneLineError(runCli(['local', '--compress', 'topk', '--topk-ratio', '1.5']), /--topk-ratio .*1\.5/));

  it('a worker given a coordinator address without a port', () =>
    expectOneLineError(runCli(['worker', '--coordinator', 'coordinator-host']), /--coordinator: 'coordinator-host' is not HOST:PORT/));
  it('a worker whose backend cannot load (redialling would never fix it)', () =>
    expectOneLineError(runCli(['worker', '--coordinator', '127.0.0.1:9', '--backend', 'tensorflow-gpu']), /backend 'tensorflow-gpu' is unavailable/));
  it('evaluate on a directory without a model', () => expectOneLineError(runCli(['evaluate', '--checkpoint', tmpDir()]), /no model\.json here/));
});

describe('gradfleet dataset', () => {
  it('`info` prints the identity of a dataset', () => {
    const dir = tmpDir();
    writeIdxDataset(dir, { train: 20, test: 10 });
    const r = runCli(['dataset', 'info', '--dataset', `idx:${dir}`]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.train, 20);
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
  });

  it('`fetch` fails with one line when no mirror answers', () =>
    expectOneLineError(runCli(['dataset', 'fetch', 'mnist', '--data-dir', tmpDir(), '--mirror', 'http://127.0.0.1:9/']), /cannot download train-images-idx3-ubyte\.gz: no mirror succeeded/));
});
