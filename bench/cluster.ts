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
import { median } from '../shared/median';
import type { RunSummary } from '../shared/training/run-summary';
import { machineLine, table, updateSection } from './report';
import { gradfleet, Run } from './run-cli';

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

/** Each configuration runs once per round; every round sits between two baseline runs. */
const ROUNDS = 3;

interface Config {
  label: string;
  args: string[];
}

/** The configurations of one model, run in rounds: baseline, the cluster runs, baseline, the cluster runs, ..., baseline. */
function inRounds(baselineArgs: string[], configs: Config[]): { baselines: Run[]; rounds: Run[][] } {
  const baselines = [gradfleet(`baseline ${baselineArgs[1]} (round 1 start)`, ['baseline', ...baselineArgs])];
  const rounds: Run[][] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    rounds.push(configs.map((c) => gradfleet(`${c.label} (round ${r})`, c.args)));
    baselines.push(gradfleet(`baseline ${baselineArgs[1]} (round ${r} end)`, ['baseline', ...baselineArgs]));
  }
  return { baselines, rounds };
}


/** A configuration's figures over the rounds, each run's ratio to its reference. */
interface Measured {
  label: string;
  args: string[];
  runs: Run[];
  ratios: number[];
  ratiosWithWarmup: number[];
}

type Figure = (s: RunSummary) => number;

/** `reference(r, figure)`: what run number `r` is compared with. */
function measure(label: string, args: string[], runs: Run[], reference: (r: number, figure: Figure) => number): Measured {
  const ratios = (figure: Figure) => runs.map((run, r) => figure(run.summary) / reference(r, figure));
  return { label, args, runs, ratios: ratios(steady), ratiosWithWarmup: ratios((s) => s.samples_per_second) };
}

/** Each round's runs against the mean of the two baselines around the round. */
const aroundRound = (baselines: Run[]) => (r: number, figure: Figure) => (figure(baselines[r].summary) + figure(baselines[r + 1].summary)) / 2;

/** The baseline runs against their own mean: how far the host drifted over the rounds. */
const meanOf = (baselines: Run[]) => (_: number, figure: Figure) => baselines.reduce((sum, b) => sum + figure(b.summary), 0) / baselines.length;

async function main(): Promise<void> {
  const kc = ['--model', 'keras-cnn', '--backend', 'wasm', '--epochs', '1', '--max-steps', '100', '--ema-decay', '0'];
  const mlp = ['--model', 'mlp', '--backend', 'wasm', '--epochs', '3', '--batch-size', '256', '--max-steps', '80', '--ema-decay', '0'];
  const models: [string[], Config[]][] = [
    [
      kc,
      [
        { label: '1 worker keras-cnn', args: ['local', '--workers', '1', '--gradient-parts', 'streamed', ...kc] },
        { label: '1 worker keras-cnn, whole gradients', args: ['local', '--workers', '1', '--gradient-parts', 'whole', ...kc] },
        { label: '2 workers keras-cnn', args: ['local', '--workers', '2', '--gradient-parts', 'streamed', ...kc] },
        { label: '2 workers keras-cnn, whole gradients', args: ['local', '--workers', '2', '--gradient-parts', 'whole', ...kc] },
        { label: '2 workers keras-cnn fp16', args: ['local', '--workers', '2', '--gradient-parts', 'streamed', '--compress', 'fp16', ...kc] },
        // What bounds 2 workers: one process at the shard size each of them computes, and 2 workers with 64 samples each
        // (weak scaling, as Horovod reports it: the global batch, and so the training, differ from the baseline's).
        { label: 'one process keras-cnn at batch 32', args: ['baseline', ...kc, '--batch-size', '32'] },
        { label: '2 workers keras-cnn, 64 samples each (batch 128)', args: ['local', '--workers', '2', '--gradient-parts', 'whole', ...kc, '--batch-size', '128'] },
      ],
    ],
    [mlp, [{ label: '1 worker mlp b256', args: ['local', '--workers', '1', '--gradient-parts', 'streamed', ...mlp] }]],
  ];
  const measured: Measured[] = [];
  for (const [baselineArgs, configs] of models) {
    const { baselines, rounds } = inRounds(baselineArgs, configs);
    measured.push(measure(`baseline ${baselineArgs[1]}`, ['baseline', ...baselineArgs], baselines, meanOf(baselines)));
    configs.forEach((c, i) => measured.push(measure(c.label, c.args, rounds.map((round) => round[i]), aroundRound(baselines))));
  }
  const span = (xs: number[]) => `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
  const throughput = measured.map((m) => [
    m.label,
    `\`gradfleet ${m.args.join(' ')}\``,
    n(median(m.runs.map((r) => steady(r.summary)))),
    span(m.ratios),
    `${median(m.ratiosWithWarmup).toFixed(2)}×`,
    `${(median(m.runs.map((r) => r.summary.test_accuracy)) * 100).toFixed(2)}%`,
  ]);
  const keras = measured.find((m) => m.label === 'baseline keras-cnn')!;
  const ceiling = await parallelCeiling(kc, median(keras.runs.map((r) => steady(r.summary))));
  const clusters = measured.filter((m) => m.runs[0].summary.command !== 'baseline');
  const wire = clusters.map((m) => {
    const s = m.runs[0].summary;
    const modelBytes = (s.model_parameters as number) * 4;
    const perStep = ((s.bytes_sent as number) + (s.bytes_received as number)) / s.steps_run;
    const bound = 2 * modelBytes * s.workers;
    return [m.label, n(modelBytes / 2 ** 20, 2), n(perStep / 2 ** 20, 2), n(bound / 2 ** 20, 2), `${(perStep / bound).toFixed(3)}×`];
  });
  const breakdown = measured.map((m) => {
    const mean = (figure: (s: RunSummary) => number) => m.runs.reduce((sum, r) => sum + figure(r.summary), 0) / m.runs.length;
    const step = mean((s) => s.step_ms as number);
    // One process has no phases but its gradient step and its update.
    const phase = (k: keyof StepPhases) => mean((s) => ((s.phases_ms as StepPhases | undefined) ?? { ...zeroPhases(), compute: (s.step_ms as number) - (s.apply_ms as number), apply: s.apply_ms as number })[k]);
    return [m.label, n(step, 1), ...PHASE_NAMES.map((k) => n(phase(k), 1))];
  });
  updateSection(
    'cluster',
    `## The cluster against one process

Coordinator and workers on this machine over loopback (\`gradfleet local\`), wasm backend, throughput over the
training steps only (validation and test excluded), from each run's summary.json: samples/s and step times
leave out each process's first 5 steps (kernel compilation, first connection; \`steady_samples_per_second\`),
and the next column gives the ratio with them counted (\`samples_per_second\`). Each configuration ran in
${ROUNDS} rounds, and every round sits between two baseline runs: a run's ratio is to the mean of the two around
it, and the table gives the median over the rounds (range in brackets; samples/s are medians too). The
baseline rows compare each baseline run with their mean: the host's drift. Machine: ${machineLine()}.
Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:cluster\`. On 2 cores, 2 workers share them with the coordinator.

${table(['run', 'command', 'samples/s', 'vs baseline', 'vs baseline, warm-up included', 'test accuracy'], throughput)}

${ceiling}

Bytes on the wire per step (gradients up, weights down, sample indices) against 2 × model bytes × workers:

${table(['run', 'model MiB', 'MiB/step', 'bound MiB', 'ratio'], wire)}

Where a step's time goes, from each run's \`phases_ms\` (ms per step past the warm-up, mean over the rounds, along the shard that came in
last; trace.json in the run directory has every step of every worker): broadcast = the coordinator reads,
encodes and writes the weights and assignments (streamed gradients: only the tensors updated last, the others went out
during the step as soon as they were updated); to worker / to coordinator = on the wire, including gRPC's
encoding and decoding at both ends (to coordinator: the last part); load weights = the worker receives the weights
(their last part) and writes them into its model; encode = the gradient's last part is encoded; aggregate = the adding left when the last shard is in (shards are added as they arrive, in shard order); apply = the optimizer update
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
