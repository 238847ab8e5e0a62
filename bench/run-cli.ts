/** Runs one gradfleet command for a benchmark, in a fresh run directory, and returns its summary.json. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSummary } from '../shared/training/run-summary';

const CLI = path.resolve(__dirname, '../coordinator/cli/main.js');

export interface Run {
  label: string;
  args: string[];
  summary: RunSummary;
}

/** `cli`: another build's gradfleet (bench:versus); this checkout's by default. */
export function gradfleet(label: string, args: string[], cli = CLI): Run {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradfleet-bench-'));
  const r = spawnSync(process.execPath, [cli, ...args, '--run-dir', runDir], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (r.status !== 0) throw new Error(`gradfleet ${args.join(' ')} failed: ${r.stderr}`);
  const summary = JSON.parse(fs.readFileSync(r.stdout.trim(), 'utf8')) as RunSummary;
  process.stderr.write(`${label}: ${summary.samples_per_second.toFixed(0)} samples/s, test accuracy ${(summary.test_accuracy * 100).toFixed(2)}%\n`);
  return { label, args, summary };
}
