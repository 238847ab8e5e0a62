/**
 * `npm run bench:network`: the cluster over emulated links. The coordinator
 * and 2, 4 or 8 workers live in network namespaces; the coordinator's link
 * is shaped with a `tc tbf` rate limit in both directions (this kernel has
 * no `netem`, so no delay is added: the namespaces' own latency is some tens
 * of microseconds), and each
 * worker stands in for a GPU that takes a fixed time per shard
 * (`--simulate-compute-ms`), so the figures show the network and the
 * coordinator, not this machine's two cores. Each step time is compared with
 * the bound max(compute, 2 x model bytes x workers / coordinator bandwidth),
 * with the weights handed to all workers at once and one after another
 * (--broadcast together | staggered), and what --broadcast auto chooses
 * after its trial. At 1 Gbit/s the same runs are repeated
 * with --compress fp16 and topk, to show what compression buys where the
 * link is the limit.
 * Needs root, `ip` and `tc`.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { createTopology, Host, netnsUnavailable, runOnHost } from '../test/helpers/netns';
import { fixedPort } from '../test/helpers/processes';
import { tmpDir } from '../test/helpers/tmp';
import { readSummary } from '../shared/training/run-summary';
import type { BroadcastTrial } from '../coordinator/broadcast-policy';
import { tokenFile } from '../test/helpers/token-file';
import { machineLine, table, updateSection } from './report';

const COMPUTE_MS = 100;
const STEPS = 15;
/** auto's 5 warm-up and 20 trial steps, then some with its choice. */
const AUTO_STEPS = 30;
const LINKS = [
  { name: '1 Gbit/s', rate: '1gbit', bitsPerSecond: 1e9 },
  { name: '10 Gbit/s', rate: '10gbit', bitsPerSecond: 1e10 },
];
const WORKERS = [2, 4, 8];
const COMPRESSIONS = ['fp16', 'topk'];

function shape(coordinator: Host, link: (typeof LINKS)[number]): void {
  // burst must cover a timer tick at the rate (10 Gbit/s x 1 ms = 1.25 MB); latency bounds the queue.
  const tbf = ['root', 'tbf', 'rate', link.rate, 'burst', '4mb', 'latency', '200ms'];
  execFileSync('tc', ['qdisc', 'replace', 'dev', coordinator.link, ...tbf]);
  execFileSync('ip', ['netns', 'exec', coordinator.ns, 'tc', 'qdisc', 'replace', 'dev', coordinator.device, ...tbf]);
}

interface StepFigures {
  stepMs: number;
  /** max(compute, 2 x model bytes x workers / link rate): the issue's bound, both directions' bytes one after the other. */
  boundMs: number;
  /** (workers + 1) x model bytes / link rate + compute: the least a step with staggered weights can take on a full-duplex link. */
  pipelineMs: number;
  /** The coordinator process's own CPU time per step (summary.json's coordinator_cpu_ms). */
  cpuMs: number;
  parameters: number;
  /** --broadcast auto: what it chose, with the median step of each mode in its trial. */
  trials: BroadcastTrial[];
}

async function step(workers: number, link: (typeof LINKS)[number], compress = 'none', broadcast = 'together', steps = STEPS): Promise<StepFigures> {
  const topology = createTopology(workers + 1);
  const [c, ...hosts] = topology.hosts;
  const token = tokenFile();
  const runDir = tmpDir();
  const port = String(fixedPort(4));
  try {
    shape(c, link);
    const coordinator = runOnHost(c, [
      'coordinator', '--host', c.address, '--port', port, '--token-file', token, '--model', 'cnn', '--backend', 'wasm', '--epochs', '1',
      '--max-steps', String(steps), '--min-workers', String(workers), '--ema-decay', '0', '--compress', compress, '--broadcast', broadcast, '--run-dir', path.join(runDir, 'run'),
    ]);
    const procs = hosts.map((h, i) =>
      runOnHost(h, ['worker', '--coordinator', `${c.address}:${port}`, '--token-file', token, '--backend', 'wasm', '--simulate-compute-ms', String(COMPUTE_MS), '--cache-dir', path.join(runDir, `cache-${i}`)]),
    );
    const code = await coordinator.exit;
    await Promise.all(procs.map((p) => p.exit));
    if (code !== 0) throw new Error(`coordinator exited with ${code}: ${coordinator.output()}`);
    const summary = readSummary(path.join(runDir, 'run'));
    const parameters = summary.model_parameters as number;
    const modelBytes = 4 * parameters;
    const transferMs = (modelBytes * 8 * 1000) / link.bitsPerSecond;
    const boundMs = Math.max(COMPUTE_MS, 2 * workers * transferMs);
    return { stepMs: summary.step_ms as number, boundMs, pipelineMs: (workers + 1) * transferMs + COMPUTE_MS, cpuMs: summary.coordinator_cpu_ms as number, parameters, trials: (summary.broadcast_trials ?? []) as BroadcastTrial[] };
  } finally {
    topology.destroy();
  }
}

async function main(): Promise<void> {
  const why = netnsUnavailable();
  if (why !== undefined) {
    process.stderr.write(`bench:network skipped: ${why}\n`);
    return;
  }
  const rows: (string | number)[][] = [];
  const compressed: (string | number)[][] = [];
  let parameters = 0;
  for (const link of LINKS) {
    for (const workers of WORKERS) {
      const r = await step(workers, link);
      const staggered = await step(workers, link, 'none', 'staggered');
      const auto = await step(workers, link, 'none', 'auto', AUTO_STEPS);
      parameters = r.parameters;
      const ofBound = (ms: number) => `${ms.toFixed(0)} (${(ms / r.boundMs).toFixed(2)}×)`;
      process.stderr.write(`${link.name}, ${workers} workers: ${ofBound(r.stepMs)} together, ${ofBound(staggered.stepMs)} staggered, bound ${r.boundMs.toFixed(0)} ms\n`);
      rows.push([
        link.name,
        workers,
        r.boundMs.toFixed(0),
        r.pipelineMs.toFixed(0),
        ofBound(r.stepMs),
        ofBound(staggered.stepMs),
        `${(r.stepMs / staggered.stepMs).toFixed(2)}×`,
        `${r.cpuMs.toFixed(0)} / ${staggered.cpuMs.toFixed(0)}`,
        auto.trials.map((t) => `${t.chosen} (${t.togetherMs.toFixed(0)} / ${t.staggeredMs.toFixed(0)})`).join(', ') || 'undecided',
      ]);
      if (link !== LINKS[0]) continue;
      const row: (string | number)[] = [workers, r.stepMs.toFixed(0)];
      for (const compress of COMPRESSIONS) {
        const c = await step(workers, link, compress);
        process.stderr.write(`${link.name}, ${workers} workers, --compress ${compress}: ${c.stepMs.toFixed(0)} ms/step\n`);
        row.push(c.stepMs.toFixed(0), `${(r.stepMs / c.stepMs).toFixed(2)}×`);
      }
      compressed.push(row);
    }
  }
  updateSection(
    'network',
    `## The cluster over emulated networks

Machine: ${machineLine()}. Command: \`npm run bench:network\` (${new Date().toISOString().slice(0, 10)}), as root.
Coordinator and workers in network namespaces; the coordinator's link limited by \`tc tbf\` in both directions (no added delay:
this kernel has no \`netem\`).
\`cnn\` (${(parameters / 1e6).toFixed(2)}M parameters, ${((4 * parameters) / 2 ** 20).toFixed(1)} MiB of float32), global batch 64, ${STEPS} steps, full float32
weights down and gradients up every step. Each worker stands in for a GPU: \`--simulate-compute-ms ${COMPUTE_MS}\` answers a shard after
${COMPUTE_MS} ms with a fixed small-noise gradient, leaving the CPU to the transport. Bound = max(compute, 2 × model bytes × workers / link rate):
every worker's weights and gradient through the coordinator's link, one direction after the other. The link is full duplex, and with
\`--broadcast staggered\` (each worker's weights once the worker before holds its own) one worker's weights go down while another's
gradient comes up, so a step can beat that bound; its own least is (workers + 1) × model bytes / link rate + compute (the last worker's
weights after everyone else's, then its compute and its gradient): the "least staggered" column. The last column is the coordinator
process's own CPU time per step (user and system, summary.json's \`coordinator_cpu_ms\`): here it shares two vCPUs with the workers;
with each worker on a host of its own, a step could still be no shorter. The "auto" column is what \`--broadcast auto\` (the default)
chose in a run of its own of ${AUTO_STEPS} steps, with the median step of each mode over its trial (ms, at once / staggered).

${table(['coordinator link', 'workers', 'bound ms', 'least staggered ms', 'ms/step, weights to all at once (÷ bound)', 'ms/step, \`--broadcast staggered\` (÷ bound)', 'staggered speed-up', 'coordinator CPU ms/step (at once / staggered)', '\`--broadcast auto\` chose (trial medians)'], rows)}

The same runs at ${LINKS[0].name} with compression (\`--compress fp16\`: 16-bit gradients and weight changes; \`--compress topk\`:
1% of each gradient tensor as index and value, fp16 weight changes), ms per step and speed-up over float32:

${table(['workers', 'float32', ...COMPRESSIONS.flatMap((c) => [c, `${c} speed-up`])], compressed)}`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
