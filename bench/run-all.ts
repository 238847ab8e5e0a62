/** `npm run bench`: every benchmark program in turn; each rewrites its own section of BENCHMARKS.md. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const PROGRAMS = ['backends.js', 'kernel-profile.js', 'baseline-accuracy.js', 'transport.js', 'cluster.js', 'failure-detection.js', 'heterogeneous.js', 'network-emulation.js', 'compression.js'];

let failed = 0;
for (const program of PROGRAMS) {
  process.stderr.write(`== ${program}\n`);
  const r = spawnSync(process.execPath, [path.join(__dirname, program)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
