/**
 * gradfleet's wasm training kernels give the cpu backend's results (the
 * numerical reference) on random shapes, including the cases the presets use.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../../../../shared/random';
import { maxAbs, maxAbsDiff, onBackends } from '../../../helpers/backends';

type Pad = 'valid' | 'same';
const rand = mulberry32(1234);
const randInt = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const randomValues = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

/** Runs the kernel on wasm and cpu with the same inputs and compares, relative to the output's scale. */
async function expectSameOnWasmAndCpu(
  kernel: string,
  inputs: Record<string, { values: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
  tolerance = 1e-5,
): Promise<void> {
  const out = await onBackends(['wasm', 'cpu'], () =>
    tf.tidy(() => {
      const ts: tf.NamedTensorMap = {};
      for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
      const r = tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
      return { values: r.dataSync().slice(), shape: r.shape };
    }),
  );
  assert.deepEqual(out.wasm.shape, out.cpu.shape);
  const scale = Math.max(1, maxAbs(out.cpu.values));
  const diff = maxAbsDiff(out.wasm.values, out.cpu.values);
  assert.ok(diff <= tolerance * scale, `${kernel} ${JSON.stringify(attrs)}: max diff ${diff} (scale ${scale})`);
}

function convCase(pad: Pad, k: number, ci: number, co: number) {
  const b = randInt(1, 5);
  const h = randInt(k + 1, 14);
  const w = randInt(k + 1, 14);
  const oh = pad === 'same' ? h : h - k + 1;
  const ow = pad === 'same' ? w : w - k + 1;
  return {
    x: { values: randomValues(b * h * w * ci), shape: [b, h, w, ci] },
    filter: { values: randomValues(k * k * ci * co), shape: [k, k, ci, co] },
    dy: { values: randomValues(b * oh * ow * co), shape: [b, oh, ow, co] },
  };
}

describe('wasm training kernels', () => {
  // The presets use 3x3 and 5x5 filters, 'valid' and 'same', 1 to 64 channels.
  const shapes: [number, number, number][] = [
    [1, 1, 4],
    [3, 1, 32],
    [3, 32, 64],
    [5, 1, 6],
    [5, 1, 32],
    [5, 6, 16],
    [2, 3, 5],
    [4, 2, 3],
  ];

  type Case = ReturnType<typeof convCase>;
  const convKernels: { kernel: string; inputs: (c: Case) => Record<string, Case['x']>; extraAttrs: (c: Case) => Record<string, number[]> }[] = [
    { kernel: 'Conv2D', inputs: (c) => ({ x: c.x, filter: c.filter }), extraAttrs: () => ({ dilations: [1, 1] }) },
    { kernel: 'Conv2DBackpropFilter', inputs: (c) => ({ x: c.x, dy: c.dy }), extraAttrs: (c) => ({ filterShape: c.filter.shape }) },
    { kernel: 'Conv2DBackpropInput', inputs: (c) => ({ dy: c.dy, filter: c.filter }), extraAttrs: (c) => ({ inputShape: c.x.shape }) },
  ];
  for (const pad of ['valid', 'same'] as Pad[]) {
    for (const [k, ci, co] of shapes) {
      for (const g of convKernels) {
        it(`${g.kernel} matches cpu: ${k}x${k}, ${ci}->${co} channels, ${pad}`, async () => {
          const c = convCase(pad, k, ci, co);
          await expectSameOnWasmAndCpu(g.kernel, g.inputs(c), { strides: [1, 1], pad, dataFormat: 'NHWC', ...g.extraAttrs(c) });
        });
      }
    }
  }

  // Shapes at the edges of the native loops' tiling: a filter larger than the image ('same'), one output
  // column (an odd row left after tiles of 2), channel counts with a partial vector and a lone channel.
  const edgeCases: { label: string; x: number[]; k: number; co: number; pad: Pad }[] = [
    { label: '5x5 filter on a 3x3 image, same', x: [2, 3, 3, 5], k: 5, co: 7, pad: 'same' },
    { label: '3x3 filter, one output column', x: [1, 6, 3, 4], k: 3, co: 16, pad: 'valid' },
    { label: '1x1 filter, 17 -> 33 channels', x: [3, 5, 4, 17], k: 1, co: 33, pad: 'valid' },
    { label: '3x3 filter, 19 -> 21 channels, same', x: [2, 7, 6, 19], k: 3, co: 21, pad: 'same' },
  ];
  for (const e of edgeCases) {
    for (const g of convKernels) {
      it(`${g.kernel} matches cpu: ${e.label}`, async () => {
        const [b, h, w, ci] = e.x;
        const out = tf.backend_util.computeConv2DInfo(e.x as [number, number, number, number], [e.k, e.k, ci, e.co], 1, 1, e.pad);
        const c: Case = {
          x: { values: randomValues(b * h * w * ci), shape: e.x },
          filter: { values: randomValues(e.k * e.k * ci * e.co), shape: [e.k, e.k, ci, e.co] },
          dy: { values: randomValues(tf.util.sizeFromShape(out.outShape)), shape: out.outShape },
        };
        await expectSameOnWasmAndCpu(g.kernel, g.inputs(c), { strides: [1, 1], pad: e.pad, dataFormat: 'NHWC', ...g.extraAttrs(c) });
      });
    }
  }

  it('Conv2D with explicit padding wider than the filter matches cpu (windows wholly in the padding)', async () => {
    const c = convCase('valid', 3, 4, 8);
    const pad = [[0, 0], [4, 1], [0, 5], [0, 0]];
    await expectSameOnWasmAndCpu('Conv2D', { x: c.x, filter: c.filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
  });

  it('Conv2D with dilation 2 falls back to the stock kernel and still matches cpu', async () => {
    const c = convCase('valid', 3, 2, 4);
    await expectSameOnWasmAndCpu('Conv2D', { x: c.x, filter: c.filter }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [2, 2] });
  });

  it('Conv2DBackpropInput with stride 2 falls back to the stock kernel and still matches cpu', async () => {
    const x = [2, 9, 9, 3];
    const dy = [2, 4, 4, 5];
    await expectSameOnWasmAndCpu(
      'Conv2DBackpropInput',
      { dy: { values: randomValues(2 * 4 * 4 * 5), shape: dy }, filter: { values: randomValues(3 * 3 * 3 * 5), shape: [3, 3, 3, 5] } },
      { strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', inputShape: x },
    );
  });

  /** Quantised values after ReLU make ties common, as on flat image backgrounds. */
  async function expectMaxPoolGradAsCpu(size: number, stride: number, pad: Pad, c: number): Promise<void> {
    const b = randInt(1, 4);
    const h = randInt(5, 13);
    const w = randInt(5, 13);
    const xs = Float32Array.from({ length: b * h * w * c }, () => Math.max(0, Math.round(rand() * 4 - 2)));
    const info = tf.backend_util.computePool2DInfo([b, h, w, c], [size, size], [stride, stride], 1, pad);
    const dyShape = info.outShape;
    await expectSameOnWasmAndCpu(
      'MaxPoolGrad',
      {
        dy: { values: randomValues(tf.util.sizeFromShape(dyShape)), shape: dyShape },
        input: { values: xs, shape: [b, h, w, c] },
        output: { values: new Float32Array(tf.util.sizeFromShape(dyShape)), shape: dyShape },
      },
      { filterSize: [size, size], strides: [stride, stride], pad },
    );
  }

  for (const [size, stride, pad] of [
    [2, 2, 'valid'],
    [2, 2, 'same'],
    [3, 2, 'same'],
    [3, 1, 'valid'],
    [2, 1, 'same'],
  ] as [number, number, Pad][]) {
    it(`MaxPoolGrad matches cpu, ties included: ${size}x${size} stride ${stride} ${pad}`, () => expectMaxPoolGradAsCpu(size, stride, pad, randInt(1, 9)));
  }

  for (const c of [6, 32]) {
    it(`MaxPoolGrad 2x2 stride 2 matches cpu, ties included, ${c} channels (groups of 4 and the rest)`, () => expectMaxPoolGradAsCpu(2, 2, 'valid', c));
  }

  for (const [ta, tb] of [
    [true, false],
    [false, true],
    [true, true],
  ]) {
    for (const [m, k, n] of [
      [64, 1600, 64],
      [7, 300, 100],
      [64, 10, 3136],
    ]) {
      it(`BatchMatMul matches cpu: [${m}x${k}]x[${k}x${n}] transposeA=${ta} transposeB=${tb}`, async () => {
        const aShape = ta ? [k, m] : [m, k];
        const bShape = tb ? [n, k] : [k, n];
        await expectSameOnWasmAndCpu(
          'BatchMatMul',
          { a: { values: randomValues(m * k), shape: aShape }, b: { values: randomValues(k * n), shape: bShape } },
          { transposeA: ta, transposeB: tb },
        );
      });
    }
  }

  for (const shape of [
    [64, 26, 26, 32],
    [3, 7, 5],
    [97, 10],
    [1, 1, 1, 4],
  ]) {
    it(`Sum over all but the last axis matches cpu: [${shape}]`, async () => {
      const axes = shape.slice(0, -1).map((_, i) => i);
      await expectSameOnWasmAndCpu('Sum', { x: { values: randomValues(tf.util.sizeFromShape(shape)), shape } }, { axis: axes, keepDims: false });
    });
  }

  it('Sum over other axes still uses the stock kernel and matches cpu', async () => {
    await expectSameOnWasmAndCpu('Sum', { x: { values: randomValues(60), shape: [3, 4, 5] } }, { axis: [1], keepDims: true });
  });
});

describe('wasm Identity and same-dtype Cast share their input instead of copying', () => {
  it('give equal values, and the input survives disposing the copy (and the reverse)', async () => {
    await onBackends(['wasm'], () => {
      const x = tf.tensor([1, 2, 3]);
      const y = tf.clone(x);
      const z = tf.cast(x, 'float32');
      y.dispose();
      assert.deepEqual([...x.dataSync()], [1, 2, 3]);
      x.dispose();
      assert.deepEqual([...z.dataSync()], [1, 2, 3]);
      z.dispose();
      assert.deepEqual([...tf.cast(tf.tensor([1.7, -2.2]), 'int32').dataSync()], [1, -2]);
    });
  });
});
