/**
 * `npm run bench:failure`: how long a dead worker goes unnoticed. Two runs
 * with hosts in network namespaces (needs root and `ip`): a worker killed
 * with SIGKILL (its connection closes), and a worker whose link goes down
 * (nothing closes; only the heartbeat timeout can tell). Each reports the
 * time from the fault to the coordinator's log line that drops the worker,
 * and to the line that gives its shard to the other worker.
 */
import * as path from 'node:path';
import { createTopology, Host, netnsUnavailable, runOnHost, setLink } from '../test/helpers/netns';
import { fixedPort } from '../test/helpers/processes';
import { tmpDir } from '../test/helpers/tmp';
import { machineLine, table, updateSection } from './report';

type Fault = 'SIGKILL' | 'link down';
const HEARTBEAT_TIMEOUT_S = 8;

async function measure(fault: Fault, hosts: Host[], port: string): Promise<{ detectS: number; reassignS: number | undefined; line: string }> {
  const [c, steady, victim] = hosts;
  const runDir = tmpDir();
  const coordinator = runOnHost(c, [
    'coordinator', '--host', c.address, '--port', port, '--model', 'mlp', '--epochs', '20', '--min-workers', '2', '--backend', 'wasm',
    '--heartbeat-timeout', String(HEARTBEAT_TIMEOUT_S), '--insecure', '--run-dir', path.join(runDir, 'run'),
  ]);
  const worker = (h: Host, name: string) =>
    runOnHost(h, ['worker', '--coordinator', `${c.address}:${port}`, '--backend', 'wasm', '--name', name, '--cache-dir', path.join(runDir, name)]);
  const workers = [worker(steady, 'steady'), worker(victim, 'victim')];
  try {
    const escaped = victim.address.replace(/\./g, '\\.');
    await coordinator.waitFor(new RegExp(`joined from ${escaped}`));
    await coordinator.waitFor(/epoch 1\/20/);
    const id = new RegExp(`worker (w\\d) joined from ${escaped}`).exec(coordinator.output())![1];
    const at = Date.now();
    if (fault === 'SIGKILL') workers[1].child.kill('SIGKILL');
    else setLink(victim, false);
    const detected = await coordinator.waitFor(new RegExp(`worker ${id} \\([^)]*\\) left: `), 60_000);
    const reassigned = await coordinator.waitFor(new RegExp(`reassigning shard \\d+ of step \\d+ to w\\d: worker ${id} left`), 5_000).catch(() => undefined);
    const line = new RegExp(`worker ${id} \\([^)]*\\) left: [^\\n]*`).exec(coordinator.output())![0];
    return { detectS: (detected - at) / 1000, reassignS: reassigned && (reassigned - at) / 1000, line };
  } finally {
    for (const p of [coordinator, ...workers]) p.child.kill('SIGKILL');
    await Promise.all([coordinator, ...workers].map((p) => p.exit));
    setLink(victim, true);
  }
}

async function main(): Promise<void> {
  const why = netnsUnavailable();
  if (why !== undefined) {
    process.stderr.write(`bench:failure skipped: ${why}\n`);
    return;
  }
  const rows: (string | number)[][] = [];
  const topology = createTopology(3);
  const faults: Fault[] = ['SIGKILL', 'link down'];
  const results = [];
  try {
    for (const [i, fault] of faults.entries()) results.push(await measure(fault, topology.hosts, String(fixedPort(5 + i))));
  } finally {
    topology.destroy();
  }
  for (const [i, fault] of faults.entries()) {
    const r = results[i];
    process.stderr.write(`${fault}: detected after ${r.detectS.toFixed(2)} s (${r.line})\n`);
    rows.push([fault, r.detectS.toFixed(2), r.reassignS === undefined ? 'no shard outstanding' : r.reassignS.toFixed(2), `\`${r.line.replace(/^worker \S+ \([^)]*\) /, '')}\``]);
  }
  updateSection(
    'failure',
    `## Detecting a dead worker

Machine: ${machineLine()}. Command: \`npm run bench:failure\` (${new Date().toISOString().slice(0, 10)}).
Coordinator and two workers on hosts in network namespaces, \`mlp\`, \`--heartbeat-timeout ${HEARTBEAT_TIMEOUT_S}\` and \`--min-shard-deadline 10\` (the defaults).
Seconds from the fault to the coordinator dropping the worker, and to its shard going to the other worker in the same step.

${table(['fault', 'dropped after (s)', 'shard reassigned after (s)', 'logged reason'], rows)}

A killed process closes its TCP connection, so the coordinator sees the stream end at once. A dead link closes nothing:
the heartbeat timeout drops the worker (no message for ${HEARTBEAT_TIMEOUT_S} s; heartbeats every 2 s, checked every 0.5 s; a worker
computing a shard may be silent for twice the shard's expected time on top, a few milliseconds for \`mlp\`), before the shard
deadline would fire. The coordinator sends no gRPC keepalive pings of its own: a worker cannot answer them while it computes,
so a ping timeout would drop every worker whose pass outlasts it.`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
