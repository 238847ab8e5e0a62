/**
 * `npm run bench:profile`: where the time of one wasm training step goes,
 * kernel by kernel (tf.profile), for the conv presets at batch 64; then each
 * convolution and pooling kernel the step called, gradfleet's against the
 * one tfjs-backend-wasm ships, on the same inputs in the same run.
 * Rewrites its BENCHMARKS.md section.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { initBackend } from '../shared/backends/backend-loader';
import { stockKernel, WASM } from '../shared/backends/wasm/kernel-composition';
import { loadMnistSample } from '../shared/data/mnist-sample';
import { median } from '../shared/median';
import { buildPreset, PresetName } from '../shared/models/presets';
import { GradientComputer } from '../shared/training/gradient-step';
import { machineLine, table, updateSection } from './report';

const BATCH = 64;
const TOP = 10;
const COMPARED = [tf.Conv2D, tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.MaxPoolGrad];
const REPEATS = 15;

interface KernelCall {
  name: string;
  shapes: Record<string, number[]>;
  attrs: NamedAttrMap;
}

const callKey = (c: KernelCall) => `${c.name} ${JSON.stringify(Object.values(c.shapes))}`;

/** The distinct calls `run` makes to the named kernels (shapes and attributes), by re-registering them with a recorder in front. */
function recordCalls(names: string[], run: () => void): KernelCall[] {
  const calls = new Map<string, KernelCall>();
  const registered = names.map((name) => tf.getKernel(name, WASM)!);
  for (const config of registered) {
    tf.unregisterKernel(config.kernelName, WASM);
    const kernelFunc = (args: Parameters<KernelFunc>[0]) => {
      const shapes = Object.fromEntries(Object.entries(args.inputs).map(([k, t]) => [k, (t as TensorInfo).shape]));
      const call = { name: config.kernelName, shapes, attrs: { ...args.attrs } };
      calls.set(callKey(call), call);
      return config.kernelFunc(args);
    };
    tf.registerKernel({ ...config, kernelFunc: kernelFunc as KernelFunc });
  }
  try {
    run();
  } finally {
    for (const config of registered) {
      tf.unregisterKernel(config.kernelName, WASM);
      tf.registerKernel(config);
    }
  }
  return [...calls.values()];
}

/** Median ms of `kernel` on these inputs, its output freed each time. */
function timeKernel(kernel: KernelFunc, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): number {
  const backend = tf.backend();
  const once = () => {
    const start = performance.now();
    const out = kernel({ inputs, backend, attrs }) as TensorInfo;
    const ms = performance.now() - start;
    backend.disposeData(out.dataId);
    return ms;
  };
  once();
  return median(Array.from({ length: REPEATS }, once));
}

function compareWithStock(calls: KernelCall[]): string[][] {
  return calls.map((call) => {
    const inputs = Object.fromEntries(Object.entries(call.shapes).map(([k, shape]) => [k, tf.randomNormal(shape, 0, 1, 'float32', 7)]));
    const ours = timeKernel(tf.getKernel(call.name, WASM)!.kernelFunc, inputs, call.attrs);
    const stock = stockKernel(call.name);
    const stockMs = stock === undefined ? undefined : timeKernel(stock.kernelFunc, inputs, call.attrs);
    tf.dispose(Object.values(inputs));
    return [
      `\`${callKey(call)}\``,
      ours.toFixed(2),
      stockMs === undefined ? 'not registered' : stockMs.toFixed(2),
      stockMs === undefined ? '' : `${(stockMs / ours).toFixed(2)}×`,
    ];
  });
}

async function profile(preset: PresetName): Promise<string> {
  const data = loadMnistSample();
  const model = buildPreset(preset, { shape: data.shape, numClasses: 10, seed: 1, dropout: 0 });
  const computer = new GradientComputer(model, data.train, data.shape, { numClasses: 10 });
  const indices = Array.from({ length: BATCH }, (_, i) => i * 7);
  for (let i = 0; i < 3; i++) computer.compute({ indices, seed: i });
  const calls = recordCalls(COMPARED, () => computer.compute({ indices, seed: 0 }));
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

${table(['kernel and input shapes', 'ms', 'share'], rows)}

The step's convolution and pooling kernels, gradfleet's against the stock wasm kernel on the same random inputs
(median of ${REPEATS} calls each):

${table(['kernel and input shapes', 'gradfleet ms', 'stock ms', 'stock / gradfleet'], compareWithStock(calls))}`;
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
