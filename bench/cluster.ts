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
import { PHASE_NAMES, StepPhases, zeroPhases } from '../coordinator/step-timeline';
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
  // Each model's cluster runs sit between two baseline runs: the host drifts within minutes, so the
  // reference is their mean, and the two show how far it drifted meanwhile.
  const runs = [
    gradfleet('baseline keras-cnn (before)', ['baseline', ...kc]),
    gradfleet('1 worker keras-cnn', ['local', '--workers', '1', ...kc]),
    gradfleet('1 worker keras-cnn, whole gradients', ['local', '--workers', '1', '--gradient-parts', 'whole', ...kc]),
    gradfleet('2 workers keras-cnn', ['local', '--workers', '2', ...kc]),
    gradfleet('2 workers keras-cnn, whole gradients', ['local', '--workers', '2', '--gradient-parts', 'whole', ...kc]),
    gradfleet('2 workers keras-cnn fp16', ['local', '--workers', '2', '--compress', 'fp16', ...kc]),
    gradfleet('baseline keras-cnn (after)', ['baseline', ...kc]),
    gradfleet('baseline mlp b256 (before)', ['baseline', ...mlp]),
    gradfleet('1 worker mlp b256', ['local', '--workers', '1', ...mlp]),
    gradfleet('baseline mlp b256 (after)', ['baseline', ...mlp]),
  ];
  const baselines = (model: string) => runs.filter((r) => r.summary.command === 'baseline' && r.summary.model === model).map((r) => r.summary);
  const mean = (model: string, figure: (s: RunSummary) => number) => baselines(model).reduce((sum, s) => sum + figure(s), 0) / baselines(model).length;
  const base = (model: string) => mean(model, steady);
  const throughput = runs.map((r) => [
    r.label,
    `\`gradfleet ${r.args.join(' ')}\``,
    n(steady(r.summary)),
    `${(steady(r.summary) / base(r.summary.model)).toFixed(2)}×`,
    `${(r.summary.samples_per_second / mean(r.summary.model, (s) => s.samples_per_second)).toFixed(2)}×`,
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
    // One process has no phases but its gradient step and its update.
    const p = (s.phases_ms as StepPhases | undefined) ?? { ...zeroPhases(), compute: step - (s.apply_ms as number), apply: s.apply_ms as number };
    return [r.label, n(step, 1), ...PHASE_NAMES.map((k) => n(p[k], 1))];
  });
  updateSection(
    'cluster',
    `## The cluster against one process

Coordinator and workers on this machine over loopback (\`gradfleet local\`), wasm backend, throughput over the
training steps only (validation and test excluded), from each run's summary.json: samples/s and step times
leave out each process's first 5 steps (kernel compilation, first connection; \`steady_samples_per_second\`),
and the next column gives the ratio with them counted (\`samples_per_second\`). Ratios are to the mean of the
baseline runs before and after each model's cluster runs (the host drifts; the two show by how much). Machine: ${machineLine()}.
Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:cluster\`. On 2 cores, 2 workers share them with the coordinator.

${table(['run', 'command', 'samples/s', 'vs baseline', 'vs baseline, warm-up included', 'test accuracy'], throughput)}

${ceiling}

Bytes on the wire per step (gradients up, weights down, sample indices) against 2 × model bytes × workers:

${table(['run', 'model MiB', 'MiB/step', 'bound MiB', 'ratio'], wire)}

Where a step's time goes, from each run's \`phases_ms\` (ms per step past the warm-up, along the shard that came in
last; trace.json in the run directory has every step of every worker): broadcast = the coordinator reads,
encodes and writes the weights and assignments; to worker / to coordinator = on the wire, including gRPC's
encoding and decoding at both ends (to coordinator: the last part); load weights = the worker receives the weights and writes them into its
model; encode = the gradient's last part is encoded; aggregate = shards added up; apply = the optimizer update
left when the last part is in (streamed gradients: the tensors whose parts came earlier were updated meanwhile;
"whole gradients" runs send one part per shard, \`--gradient-parts whole\`). The two
transfer columns are placed with each worker's estimated clock offset (off by at most half a round trip); their
sum is exact.

${table(['run', 'step', 'broadcast', 'to worker', 'load weights', 'compute', 'encode', 'to coordinator', 'aggregate', 'apply', 'other'], breakdown)}`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
