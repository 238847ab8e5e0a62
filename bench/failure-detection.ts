/**
 * `npm run bench:failure`: how long a dead worker goes unnoticed, and how
 * soon workers are back after a coordinator restart. Runs with hosts in
 * network namespaces (needs root and `ip`): a worker killed with SIGKILL
 * (its connection closes), and a worker whose link goes down (nothing
 * closes; only the heartbeat timeout can tell), each timed from the fault
 * to the coordinator's log line that drops the worker and to the line that
 * gives its shard to the other worker; then a coordinator killed and
 * started again with --resume auto after some time away, timed from the
 * new coordinator's "listening" line to the worker joining it.
 */
import * as path from 'node:path';
import { createTopology, Host, HostProcess, netnsUnavailable, runOnHost, setLink } from '../test/helpers/netns';
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

const AWAY_S = [10, 120];

async function measureReturn(awayS: number, hosts: Host[], port: string): Promise<number> {
  const [c, w] = hosts;
  const runDir = path.join(tmpDir(), 'run');
  const coordinatorArgs = ['coordinator', '--host', c.address, '--port', port, '--model', 'mlp', '--epochs', '20', '--backend', 'wasm', '--insecure', '--run-dir', runDir, '--resume', 'auto'];
  const first = runOnHost(c, coordinatorArgs);
  const worker = runOnHost(w, ['worker', '--coordinator', `${c.address}:${port}`, '--backend', 'wasm', '--cache-dir', path.join(runDir, 'cache')]);
  let second: HostProcess | undefined;
  try {
    await first.waitFor(/epoch 1\/20/);
    first.child.kill('SIGKILL');
    await first.exit;
    await new Promise((resolve) => setTimeout(resolve, awayS * 1000));
    second = runOnHost(c, coordinatorArgs);
    const listening = await second.waitFor(/listening on/);
    const joined = await second.waitFor(/worker w\d+ joined from/, 300_000);
    return (joined - listening) / 1000;
  } finally {
    for (const p of [first, worker, ...(second ? [second] : [])]) p.child.kill('SIGKILL');
    await Promise.all([first, worker, ...(second ? [second] : [])].map((p) => p.exit));
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
  const returns: number[] = [];
  try {
    for (const [i, fault] of faults.entries()) results.push(await measure(fault, topology.hosts, String(fixedPort(5 + i))));
    for (const [i, awayS] of AWAY_S.entries()) {
      returns.push(await measureReturn(awayS, topology.hosts, String(fixedPort(7 + i))));
      process.stderr.write(`coordinator away ${awayS} s: the worker joined ${returns[i].toFixed(2)} s after it listened again\n`);
    }
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
so a ping timeout would drop every worker whose pass outlasts it.

A coordinator killed (SIGKILL) after epoch 1 and started again with \`--resume auto\` on the same run directory after some time
away; seconds from its "listening" line to the worker (which kept redialling) joining it:

${table(['coordinator away (s)', 'worker joined after (s)'], AWAY_S.map((s, i) => [s, returns[i].toFixed(2)]))}

The worker's channel tries a connection at least once a second while the coordinator is away (gRPC's own channel backoff
grows to 120 s; left at its default, a worker found a coordinator back after 150 s away 102 s late), and a worker waiting out
its backoff between sessions dials as soon as a connection succeeds.`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
