/**
 * `npm run bench:cluster`: the cluster against one-process training in one
 * run: throughput with 1 and 2 worker processes (ratios to `baseline`),
 * bytes on the wire per step against 2 x model bytes x workers, fp16
 * compression, and where a step's time goes. Every figure comes from the
 * runs' summary.json files.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSummary } from '../shared/training/run-summary';
import { machineLine, table, updateSection } from './report';
import { gradfleet } from './run-cli';

const CLI = path.resolve(__dirname, '../coordinator/cli/main.js');

/** Two independent baseline processes at once: how far this machine's cores scale with no communication at all. */
async function parallelCeiling(args: string[], single: number): Promise<string> {
  const runOne = () =>
    new Promise<RunSummary>((resolve, reject) => {
      const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradfleet-bench-'));
      const child = spawn(process.execPath, [CLI, 'baseline', ...args, '--run-dir', runDir], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, CI: '1' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(fs.readFileSync(out.trim(), 'utf8')) as RunSummary) : reject(new Error(`baseline exited ${code}`))));
    });
  const [a, b] = await Promise.all([runOne(), runOne()]);
  const [x, y] = [steady(a), steady(b)];
  return `Two independent \`gradfleet baseline ${args.join(' ')}\` processes at once, no communication: ${x.toFixed(0)} + ${y.toFixed(0)} samples/s = **${((x + y) / single).toFixed(2)}×** one process alone: the most any 2-process split can reach on this machine.`;
}

/** Past the warm-up steps (summary.json's steady_samples_per_second): what a long run sustains. */
const steady = (s: RunSummary) => s.steady_samples_per_second as number;
const n = (x: unknown, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');

async function main(): Promise<void> {
  const kc = ['--model', 'keras-cnn', '--backend', 'wasm', '--epochs', '1', '--max-steps', '150', '--ema-decay', '0'];
  const mlp = ['--model', 'mlp', '--backend', 'wasm', '--epochs', '3', '--batch-size', '256', '--max-steps', '80', '--ema-decay', '0'];
  const runs = [
    gradfleet('baseline keras-cnn', ['baseline', ...kc]),
    gradfleet('1 worker keras-cnn', ['local', '--workers', '1', ...kc]),
    gradfleet('2 workers keras-cnn', ['local', '--workers', '2', ...kc]),
    gradfleet('2 workers keras-cnn fp16', ['local', '--workers', '2', '--compress', 'fp16', ...kc]),
    gradfleet('baseline mlp b256', ['baseline', ...mlp]),
    gradfleet('1 worker mlp b256', ['local', '--workers', '1', ...mlp]),
  ];
  const baseline = (model: string) => runs.find((r) => r.label.startsWith('baseline') && r.summary.model === model)!.summary;
  const base = (model: string) => steady(baseline(model));
  const throughput = runs.map((r) => [
    r.label,
    `\`gradfleet ${r.args.join(' ')}\``,
    n(steady(r.summary)),
    `${(steady(r.summary) / base(r.summary.model)).toFixed(2)}×`,
    `${(r.summary.samples_per_second / baseline(r.summary.model).samples_per_second).toFixed(2)}×`,
    `${(r.summary.test_accuracy * 100).toFixed(2)}%`,
  ]);
  const ceiling = await parallelCeiling(kc, base('keras-cnn'));
  const wire = runs
    .filter((r) => r.summary.command === 'coordinator')
    .map((r) => {
      const s = r.summary;
      const modelBytes = (s.model_parameters as number) * 4;
      const perStep = ((s.bytes_sent as number) + (s.bytes_received as number)) / s.steps_run;
      const bound = 2 * modelBytes * s.workers;
      return [r.label, n(modelBytes / 2 ** 20, 2), n(perStep / 2 ** 20, 2), n(bound / 2 ** 20, 2), `${(perStep / bound).toFixed(3)}×`];
    });
  const breakdown = runs.map((r) => {
    const s = r.summary;
    const step = s.step_ms as number;
    const apply = s.apply_ms as number;
    const compute = (s.compute_ms as number | undefined) ?? step - apply;
    const comm = (s.communication_ms as number | undefined) ?? 0;
    return [r.label, n(step, 1), n(compute, 1), n(comm, 1), n(apply, 1), n(step - compute - comm - apply, 1)];
  });
  updateSection(
    'cluster',
    `## The cluster against one process

Coordinator and workers on this machine over loopback (\`gradfleet local\`), wasm backend, throughput over the
training steps only (validation and test excluded), from each run's summary.json: samples/s and step times
leave out each process's first 5 steps (kernel compilation, first connection; \`steady_samples_per_second\`),
and the next column gives the ratio with them counted (\`samples_per_second\`). Machine: ${machineLine()}.
Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:cluster\`. On 2 cores, 2 workers share them with the coordinator.

${table(['run', 'command', 'samples/s', 'vs baseline', 'vs baseline, warm-up included', 'test accuracy'], throughput)}

${ceiling}

Bytes on the wire per step (gradients up, weights down, sample indices) against 2 × model bytes × workers:

${table(['run', 'model MiB', 'MiB/step', 'bound MiB', 'ratio'], wire)}

Where a step's time goes (ms per step; compute = the slowest shard's gradient computation, communication =
encoding, transfer and decoding of gradients and weights, apply = the optimizer update on the coordinator):

${table(['run', 'step', 'compute', 'communication', 'apply', 'other'], breakdown)}`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
