/**
 * `npm run bench:versus -- OTHER_CHECKOUT [--rounds N] -- GRADFLEET_ARGS...`:
 * one gradfleet command run by another build (a `git worktree` of an
 * earlier commit, built) and by this one, alternating, round after round, so
 * that both see the same drift of a noisy host. Prints each round's steady
 * samples/s and phases, and the median of this build's ratio to the other;
 * it writes nothing to BENCHMARKS.md (the notes there cite its output).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { PHASE_NAMES } from '../coordinator/step-timeline';
import { median } from '../shared/median';
import { table } from './report';
import { gradfleet, Run } from './run-cli';

const program = new Command('bench:versus')
  .argument('<other>', 'the other checkout, built (npm ci && npm run build)')
  .argument('<args...>', 'the gradfleet command, after --')
  .option('--rounds <n>', 'rounds (each runs the other build, then this one)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
    return n;
  }, 5)
  .showHelpAfterError();
program.parse();
const [other, args] = program.processedArgs as [string, string[]];
const { rounds } = program.opts<{ rounds: number }>();
const otherCli = path.resolve(other, 'dist/coordinator/cli/main.js');
if (!fs.existsSync(otherCli)) program.error(`bench:versus: ${otherCli} does not exist; build the other checkout first`);

const steady = (r: Run) => r.summary.steady_samples_per_second as number;
/** A cluster run's step phases and its coordinator's CPU per step; one process has only its step and update times. */
const phases = (r: Run) => {
  const p = r.summary.phases_ms as Record<string, number> | undefined;
  if (p === undefined) return `step ${Number(r.summary.step_ms).toFixed(2)}, apply ${Number(r.summary.apply_ms).toFixed(2)}`;
  const cpu = r.summary.coordinator_cpu_ms as number | undefined;
  const shown = PHASE_NAMES.filter((k) => p[k] >= 0.05).map((k) => `${k} ${p[k].toFixed(2)}`);
  return [...shown, ...(cpu === undefined ? [] : [`coordinator CPU ${cpu.toFixed(2)}`])].join(', ');
};

const rows: string[][] = [];
const ratios: number[] = [];
for (let r = 1; r <= rounds; r++) {
  const before = gradfleet(`other (round ${r})`, args, otherCli);
  const now = gradfleet(`this (round ${r})`, args);
  ratios.push(steady(now) / steady(before));
  rows.push([String(r), steady(before).toFixed(0), steady(now).toFixed(0), `${ratios.at(-1)!.toFixed(2)}×`, phases(before), phases(now)]);
}
process.stdout.write(`\`gradfleet ${args.join(' ')}\`, ${other} against this checkout, ${rounds} rounds:\n\n`);
process.stdout.write(`${table(['round', 'other samples/s', 'this samples/s', 'this / other', 'other phases (ms)', 'this phases (ms)'], rows)}\n\n`);
process.stdout.write(`median ratio ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})\n`);
