/**
 * `npm run bench:accuracy`: the README's headline runs, as a user types them,
 * reading each run's summary.json: test accuracy and time for 5 epochs of
 * keras-cnn and mlp on the embedded sample with the wasm backend.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSummary } from '../shared/training/run-summary';
import { machineLine, table, updateSection } from './report';

const CLI = path.resolve(__dirname, '../coordinator/cli/main.js');

function baseline(args: string[]): RunSummary {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradfleet-bench-'));
  const r = spawnSync(process.execPath, [CLI, 'baseline', ...args, '--run-dir', runDir], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (r.status !== 0) throw new Error(`gradfleet baseline ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(fs.readFileSync(r.stdout.trim(), 'utf8')) as RunSummary;
}

function main(): void {
  const runs = [
    ['--model', 'keras-cnn', '--dataset', 'mnist-sample', '--epochs', '5', '--backend', 'wasm'],
    ['--model', 'mlp', '--dataset', 'mnist-sample', '--epochs', '5', '--backend', 'wasm'],
  ];
  const rows = runs.map((args) => {
    const s = baseline(args);
    process.stderr.write(`${s.model}: ${(s.test_accuracy * 100).toFixed(2)}% in ${s.wall_seconds.toFixed(0)} s\n`);
    return [
      `\`gradfleet baseline ${args.join(' ')}\``,
      `${(s.test_accuracy * 100).toFixed(2)}%`,
      s.test_loss.toFixed(4),
      s.wall_seconds.toFixed(0),
      s.samples_per_second.toFixed(0),
    ];
  });
  updateSection(
    'accuracy',
    `## One-process training on the embedded sample

Test accuracy on the 2,000 held-out digits of \`mnist-sample\` (7,200 training / 800 validation images),
default options (Adam 1e-3, batch 64, seed 42, evaluation with the weight EMA, decay 0.999).
Machine: ${machineLine()}. Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:accuracy\`.

${table(['command', 'test accuracy', 'test loss', 'wall s', 'train samples/s'], rows)}`,
  );
}

main();
