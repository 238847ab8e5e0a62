/**
 * `npm run bench:compression`: what compression costs in accuracy. Full
 * 5-epoch keras-cnn runs on the embedded sample, one process and two workers
 * with float32, float16, bfloat16 and top-k (1% and 10%) on the wire, same
 * seed; test accuracy, bytes per step and samples/s from each run's
 * summary.json.
 */
import { machineLine, table, updateSection } from './report';
import { gradfleet } from './run-cli';

const COMMON = ['--model', 'keras-cnn', '--backend', 'wasm', '--epochs', '5', '--seed', '11'];

function main(): void {
  const baseline = gradfleet('baseline', ['baseline', ...COMMON]);
  const settings = [['none'], ['fp16'], ['bf16'], ['topk', '--topk-ratio', '0.01'], ['topk', '--topk-ratio', '0.1']];
  const runs = settings.map(([c, ...more]) => gradfleet(`2 workers ${c} ${more.join(' ')}`, ['local', '--workers', '2', '--compress', c, ...more, ...COMMON]));
  const reference = runs[0].summary as unknown as Record<string, number>;
  const rows = [baseline, ...runs].map((r) => {
    const s = r.summary as unknown as Record<string, number>;
    const perStep = s.bytes_sent !== undefined ? (s.bytes_sent + s.bytes_received) / s.steps_run : undefined;
    return [
      `\`gradfleet ${r.args.join(' ')}\``,
      `${(s.test_accuracy * 100).toFixed(2)}%`,
      `${((s.test_accuracy - baseline.summary.test_accuracy) * 100).toFixed(2)} pt`,
      perStep === undefined ? '-' : (perStep / 2 ** 20).toFixed(2),
      perStep === undefined ? '-' : `${(perStep / ((reference.bytes_sent + reference.bytes_received) / reference.steps_run)).toFixed(3)}×`,
      s.steady_samples_per_second.toFixed(0),
    ];
  });
  updateSection(
    'compression',
    `## Gradient compression and accuracy

Machine: ${machineLine()}. Command: \`npm run bench:compression\` (${new Date().toISOString().slice(0, 10)}).
Five epochs of keras-cnn on the embedded sample (2,000 test images: one image is 0.05 pt), the same seed for every run.

${table(['run', 'test accuracy', 'vs baseline', 'MiB on the wire per step', 'vs float32', 'samples/s'], rows)}

fp16 and bf16: 16-bit gradients up and 16-bit weight changes down, with error feedback. topk: the largest
1% or 10% of each gradient tensor's entries up (index and float32 value, 8 bytes each; the rest waits on the
worker for the next step), fp16 weight changes down. samples/s are past the warm-up; on loopback the
compression work is not paid back by the bytes saved, on a slow link it is (see "The cluster over emulated
networks").`,
  );
}

main();
