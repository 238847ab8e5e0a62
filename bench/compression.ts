/**
 * `npm run bench:compression`: what 16-bit gradients cost in accuracy. Full
 * 5-epoch keras-cnn runs on the embedded sample, one process and two workers
 * with float32, float16 and bfloat16 on the wire, same seed; test accuracy
 * and bytes per step from each run's summary.json.
 */
import { machineLine, table, updateSection } from './report';
import { gradfleet } from './run-cli';

const COMMON = ['--model', 'keras-cnn', '--backend', 'wasm', '--epochs', '5', '--seed', '11'];

function main(): void {
  const baseline = gradfleet('baseline', ['baseline', ...COMMON]);
  const runs = (['none', 'fp16', 'bf16'] as const).map((c) => gradfleet(`2 workers ${c}`, ['local', '--workers', '2', '--compress', c, ...COMMON]));
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
    ];
  });
  updateSection(
    'compression',
    `## Gradient compression and accuracy

Machine: ${machineLine()}. Command: \`npm run bench:compression\` (${new Date().toISOString().slice(0, 10)}).
Five epochs of keras-cnn on the embedded sample (2,000 test images: one image is 0.05 pt), the same seed for every run.

${table(['run', 'test accuracy', 'vs baseline', 'MiB on the wire per step', 'vs float32'], rows)}`,
  );
}

main();
