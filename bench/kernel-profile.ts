/**
 * `npm run bench:profile`: where the time of one wasm training step goes,
 * kernel by kernel (tf.profile), for the conv presets at batch 64, next to
 * the multiply-adds each conv kernel must do. Rewrites its BENCHMARKS.md section.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../shared/backends/backend-loader';
import { loadMnistSample } from '../shared/data/mnist-sample';
import { buildPreset, PresetName } from '../shared/models/presets';
import { GradientComputer } from '../shared/training/gradient-step';
import { machineLine, table, updateSection } from './report';

const BATCH = 64;
const TOP = 10;

async function profile(preset: PresetName): Promise<string> {
  const data = loadMnistSample();
  const model = buildPreset(preset, { shape: data.shape, numClasses: 10, seed: 1, dropout: 0 });
  const computer = new GradientComputer(model, data.train, data.shape, { numClasses: 10 });
  const indices = Array.from({ length: BATCH }, (_, i) => i * 7);
  for (let i = 0; i < 3; i++) computer.compute({ indices, seed: i });
  const runs = 5;
  const byKernel = new Map<string, number>();
  let total = 0;
  for (let r = 0; r < runs; r++) {
    const info = await tf.profile(() => {
      computer.compute({ indices, seed: r });
    });
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const key = `${k.name} ${JSON.stringify(k.inputShapes.filter((s) => s !== null))}`;
      byKernel.set(key, (byKernel.get(key) ?? 0) + ms / runs);
      total += ms / runs;
    }
  }
  model.dispose();
  const rows = [...byKernel.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([k, ms]) => [`\`${k}\``, ms.toFixed(2), `${((100 * ms) / total).toFixed(1)}%`]);
  return `### ${preset}: ${total.toFixed(1)} ms of kernels per step (${((BATCH * 1000) / total).toFixed(0)} samples/s if nothing else ran)

${table(['kernel and input shapes', 'ms', 'share'], rows)}`;
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const sections = [];
  for (const preset of ['keras-cnn', 'cnn'] as PresetName[]) sections.push(await profile(preset));
  updateSection(
    'profile',
    `## Kernel profile of a wasm training step

The ${TOP} costliest kernels of one gradient step (forward + backward) at batch ${BATCH}, mean of 5 steps, from
\`tf.profile\`. Machine: ${machineLine()}. Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:profile\`.

${sections.join('\n\n')}`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
