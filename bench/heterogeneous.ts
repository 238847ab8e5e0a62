/**
 * `npm run bench:heterogeneous`: a cluster with one slow worker. The slow
 * one is a worker process held to a quarter of a CPU by a cgroup CPU quota
 * (needs root and the cgroup v1 cpu controller). With shards sized by
 * measured throughput (the default) a step should take about as long as the
 * fast worker needs for its larger share; with equal shards, as long as the
 * slow worker needs for half the batch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exitOf, startCoordinatorProcess, startWorkerProcess } from '../test/helpers/processes';
import { tmpDir } from '../test/helpers/tmp';
import { readSummary } from '../shared/training/run-summary';
import { machineLine, table, updateSection } from './report';

const CGROUP_CPU = '/sys/fs/cgroup/cpu';
const QUOTA = 0.25;
const PERIOD_US = 5000;
const TRAINING = ['--model', 'keras-cnn', '--backend', 'wasm', '--epochs', '1', '--max-steps', '100', '--ema-decay', '0', '--seed', '3'];

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'cgroup CPU quotas need root';
  if (!fs.existsSync(path.join(CGROUP_CPU, 'cpu.cfs_quota_us'))) return `no cgroup v1 cpu controller at ${CGROUP_CPU}`;
  return undefined;
}

/** Holds process `pid` (all its threads) to QUOTA of one CPU; returns the cleanup. */
function throttle(pid: number): () => void {
  const dir = path.join(CGROUP_CPU, `gradfleet-bench-${pid}`);
  fs.mkdirSync(dir);
  // A short period spreads the quota evenly: with the default 100 ms, a shard could stall for 75 ms at a time.
  fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
  fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(QUOTA * PERIOD_US)));
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  return () => fs.rmdirSync(dir);
}

interface Setup {
  label: string;
  workers: number;
  throttled: boolean;
  sizing: 'throughput' | 'equal';
  parts: 'streamed' | 'whole';
}

async function run(s: Setup): Promise<{ stepMs: number; samplesPerSecond: number; accuracy: number }> {
  const runDir = tmpDir();
  const c = await startCoordinatorProcess(['--port', '0', ...TRAINING, '--min-workers', String(s.workers), '--shard-sizing', s.sizing, '--gradient-parts', s.parts, '--run-dir', runDir]);
  const cleanups: (() => void)[] = [];
  const workers = Array.from({ length: s.workers }, (_, i) => {
    const w = startWorkerProcess(c.port, `w${i + 1}`, ['--cache-dir', path.join(runDir, `cache-${i}`)]);
    if (s.throttled && i === s.workers - 1) cleanups.push(throttle(w.pid!));
    return w;
  });
  const code = await exitOf(c.child);
  await Promise.all(workers.map(exitOf));
  for (const done of cleanups) done();
  if (code !== 0) throw new Error(`${s.label}: coordinator exited with ${code}: ${c.stderr()}`);
  const summary = readSummary(runDir);
  return { stepMs: summary.step_ms as number, samplesPerSecond: summary.steady_samples_per_second as number, accuracy: summary.test_accuracy };
}

async function main(): Promise<void> {
  const why = unavailable();
  if (why !== undefined) {
    process.stderr.write(`bench:heterogeneous skipped: ${why}\n`);
    return;
  }
  const setups: Setup[] = [
    { label: '1 worker', workers: 1, throttled: false, sizing: 'throughput', parts: 'streamed' },
    { label: '2 workers, one at 25% CPU, shards by throughput', workers: 2, throttled: true, sizing: 'throughput', parts: 'streamed' },
    { label: '2 workers, one at 25% CPU, shards by throughput, whole gradients', workers: 2, throttled: true, sizing: 'throughput', parts: 'whole' },
    { label: '2 workers, one at 25% CPU, equal shards', workers: 2, throttled: true, sizing: 'equal', parts: 'streamed' },
  ];
  const results: Awaited<ReturnType<typeof run>>[] = [];
  for (const s of setups) {
    const r = await run(s);
    process.stderr.write(`${s.label}: ${r.stepMs.toFixed(1)} ms/step, ${r.samplesPerSecond.toFixed(0)} samples/s\n`);
    results.push(r);
  }
  const ref = results[0].stepMs;
  const rows = setups.map((s, i) => [
    s.label,
    `\`--shard-sizing ${s.sizing} --gradient-parts ${s.parts}\``,
    results[i].stepMs.toFixed(1),
    `${(results[i].stepMs / ref).toFixed(2)}×`,
    results[i].samplesPerSecond.toFixed(0),
  ]);
  updateSection(
    'heterogeneous',
    `## A slow worker in the cluster

Machine: ${machineLine()}. Command: \`npm run bench:heterogeneous\` (${new Date().toISOString().slice(0, 10)}), as root.
\`gradfleet coordinator ${TRAINING.join(' ')}\` with worker processes on loopback; the slow worker is held to ${QUOTA * 100}% of one CPU
by a cgroup CPU quota (${QUOTA * PERIOD_US} µs every ${PERIOD_US} µs). Step time relative to one unthrottled worker alone, in the same run of the benchmark.

${table(['run', 'options', 'ms/step', 'vs 1 worker', 'samples/s'], rows)}

With equal shards every step waits for the slow worker's half of the batch. Sized by measured samples/s alone, the
slow worker got a small share and still held every step back: costs that do not shrink with its share dominate
it. A forward and backward pass has a cost of its own (kernel dispatch, tiny kernels): in a trace.json of this setup
(each compute span carries its sample count) the slow worker computed 6 samples in a median 48.6 ms, 8.8 ms per
sample against the fast worker's 0.84 ms for its 58, and it decodes the weights and encodes its gradient at a
quarter speed too. Sizing in proportion to samples/s assumes time grows with samples from zero, so it settles where
both take equally long, not where the step is shortest (1.42× and 1.65× the fast worker alone in two runs). So the
scheduler now also leaves out a worker whose shards take longer than the others would need for the whole batch
and earns less than half an equal share (coordinator/straggler-policy.ts): it sits out 20 steps, without weights
meanwhile, then gets a shard (and the weights whole) to be measured again, which costs one slow step in 20. The
rows above are with that policy. Gradients in parts cost the throttled worker a few more turns
of its event loop per shard, at a quarter speed, and the coordinator's early updates compete with the fast worker
for the 2 vCPUs.`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
