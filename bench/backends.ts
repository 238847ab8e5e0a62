/**
 * `npm run bench:backends`: samples/s of one training step (gradient step +
 * optimizer update) per preset and backend at batch 64, measured in one run
 * so the ratios hold even on a noisy machine. Also records that conv nets
 * cannot train on the stock wasm backend.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { ConcreteBackend, initBackend } from '../shared/backends/backend-loader';
import { loadMnistSample } from '../shared/data/mnist-sample';
import { buildPreset, PRESET_NAMES, PresetName } from '../shared/models/presets';
import { GradientComputer } from '../shared/training/gradient-step';
import { ParameterUpdate } from '../shared/training/parameter-update';
import { machineLine, table, updateSection } from './report';

const BATCH = 64;

interface Measurement {
  preset: PresetName;
  backend: ConcreteBackend;
  samplesPerSecond: number;
  steps: number;
}

/** Seconds budget per (preset, backend): the cpu backend needs minutes for one conv-net step. */
function stepsFor(backend: ConcreteBackend, preset: PresetName): { warmup: number; timed: number } {
  if (backend === 'cpu') return preset.startsWith('mlp') ? { warmup: 1, timed: 5 } : { warmup: 0, timed: 1 };
  return { warmup: 3, timed: preset === 'cnn' ? 10 : 30 };
}

async function measure(preset: PresetName, backend: ConcreteBackend): Promise<Measurement> {
  await initBackend(backend);
  const data = loadMnistSample();
  const model = buildPreset(preset, { shape: data.shape, numClasses: 10, seed: 1, dropout: preset === 'cnn' ? 0.5 : 0 });
  const computer = new GradientComputer(model, data.train, data.shape, { numClasses: 10 });
  const update = new ParameterUpdate(model, {
    optimizer: { name: 'adam', lr: 1e-3, momentum: 0 },
    schedule: { name: 'constant', lr: 1e-3, decayRate: 1, decaySteps: 1, staircase: false, warmupSteps: 0, globalBatch: BATCH, referenceBatch: BATCH },
    l1: 0,
    l2: 0,
    emaDecay: 0,
  });
  const { warmup, timed } = stepsFor(backend, preset);
  const step = (i: number) => {
    const indices = Array.from({ length: BATCH }, (_, j) => (i * BATCH + j) % data.train.count);
    update.apply(computer.compute({ indices, seed: i }), i);
  };
  for (let i = 0; i < warmup; i++) step(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < timed; i++) step(warmup + i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  update.dispose();
  model.dispose();
  tf.disposeVariables();
  return { preset, backend, samplesPerSecond: (timed * BATCH) / seconds, steps: timed };
}

/** Tries one keras-cnn training step on wasm as shipped, in a fresh process without gradfleet's kernels. */
function stockWasmOutcome(): string {
  const script = `
    const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-wasm');
    const { buildPreset } = require(${JSON.stringify(require.resolve('../shared/models/presets'))});
    (async () => { tf.env().set('PROD', true); await tf.setBackend('wasm');
      const m = buildPreset('keras-cnn', { shape: { height: 28, width: 28, channels: 1 }, numClasses: 10, seed: 1 });
      const x = tf.zeros([8, 28, 28, 1]);
      tf.variableGrads(() => tf.sum(m.apply(x, { training: true })));
      console.log('trained'); })().catch((e) => { console.log('fails: ' + e.message.split('\\n')[0]); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: __dirname });
  return (r.stdout || r.stderr).trim().split('\n').pop() ?? 'unknown';
}

async function main(): Promise<void> {
  const backends: ConcreteBackend[] = ['wasm', 'cpu'];
  const results: Measurement[] = [];
  for (const preset of PRESET_NAMES) {
    for (const backend of backends) {
      const m = await measure(preset, backend);
      results.push(m);
      process.stderr.write(`${preset} on ${backend}: ${m.samplesPerSecond.toFixed(1)} samples/s (${m.steps} steps)\n`);
    }
  }
  const stock = stockWasmOutcome();
  const rows = PRESET_NAMES.map((preset) => {
    const wasm = results.find((r) => r.preset === preset && r.backend === 'wasm')!;
    const cpu = results.find((r) => r.preset === preset && r.backend === 'cpu')!;
    return [preset, wasm.samplesPerSecond.toFixed(0), cpu.samplesPerSecond.toFixed(1), `${(wasm.samplesPerSecond / cpu.samplesPerSecond).toFixed(0)}×`];
  });
  updateSection(
    'backends',
    `## Training step throughput per backend

One training step (gradient step + Adam update) at batch ${BATCH}, samples/s, one process.
Machine: ${machineLine()}. Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:backends\`.

${table(['preset', 'wasm (gradfleet kernels)', 'cpu (pure JS)', 'wasm / cpu'], rows)}

Stock \`@tensorflow/tfjs-backend-wasm\` 4.22 without gradfleet's kernels, one keras-cnn training step: **${stock}**.
The cpu column times ${results.filter((r) => r.backend === 'cpu' && !r.preset.startsWith('mlp'))[0]?.steps ?? 1} step for conv nets (each takes tens of seconds).`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
