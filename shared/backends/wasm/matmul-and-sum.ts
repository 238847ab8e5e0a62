/**
 * Two kernels that dominate dense-layer and bias gradients on wasm:
 *  - BatchMatMul with transposeA/transposeB leaves XNNPACK's fast path in
 *    tfjs-backend-wasm 4.22; transposing the operand first keeps it there.
 *    XNNPACK repacks the right operand as weights on every call, so for
 *    A . B^T with B the larger (dx = dy . W^T of a dense layer) it computes
 *    (B . A^T)^T: only the small operands are transposed and packed;
 *  - Sum over every axis but the last (the bias gradient of a channels-last
 *    layer) transposes the whole tensor first; as two average pools over
 *    [1, N, 1, C] (windows of about sqrt(N) rows, then the rest), times N,
 *    it is XNNPACK's pooling: ~12x faster than the stock kernel and ~8x than
 *    a JS loop, and the two stages keep float32 error at the level of
 *    pairwise summation. (As ones[1,N].X[N,C] it was slower: XNNPACK
 *    repacks X as a weight matrix on every call.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { composed, HeapBackend, KernelArgs, KernelOverride, run, transpose } from './kernel-composition';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function transposedMatMulCovered(args: KernelArgs): boolean {
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const { a, b } = args.inputs;
  return (transposeA === true || transposeB === true) && a.dtype === 'float32' && b.dtype === 'float32';
}

function plainMatMul(backend: tf.KernelBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  // The stock kernel with both flags false: the fast path.
  return run(tf.BatchMatMul, { inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
}

function transposedMatMul(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const { a, b } = args.inputs;
  const swap = (t: TensorInfo) => transpose(backend, t, swapLastTwo(t.shape.length));
  return composed(backend, (keep) => {
    const rank2 = a.shape.length === 2 && b.shape.length === 2;
    if (!transposeA && transposeB && rank2 && tf.util.sizeFromShape(b.shape) > tf.util.sizeFromShape(a.shape)) {
      return swap(keep(plainMatMul(backend, b, keep(swap(a)))));
    }
    return plainMatMul(backend, transposeA ? keep(swap(a)) : a, transposeB ? keep(swap(b)) : b);
  });
}

function reducedAxes(args: KernelArgs): number[] {
  const rank = args.inputs.x.shape.length;
  const axis = args.attrs?.axis as number | number[] | undefined;
  return tf.util.parseAxisParam(axis ?? Array.from({ length: rank }, (_, i) => i), args.inputs.x.shape);
}

/** Sum over all leading axes of a float tensor of rank >= 2, the last axis kept. */
function leadingAxesSumCovered(args: KernelArgs): boolean {
  const { x } = args.inputs;
  const rank = x.shape.length;
  if (rank < 2 || x.dtype !== 'float32' || args.attrs?.keepDims === true) return false;
  const axes = [...reducedAxes(args)].sort((p, q) => p - q);
  return axes.length === rank - 1 && axes.every((a, i) => a === i);
}

/** The largest divisor of n not above sqrt(n). */
function splitFactor(n: number): number {
  for (let f = Math.floor(Math.sqrt(n)); f > 1; f--) if (n % f === 0) return f;
  return 1;
}

function avgPoolRows(backend: tf.KernelBackend, x: TensorInfo, window: number): TensorInfo {
  return run(tf.AvgPool, { inputs: { x }, backend, attrs: { filterSize: [window, 1], strides: [window, 1], pad: 'valid' } });
}

function leadingAxesSum(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { x } = args.inputs;
  const channels = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const first = splitFactor(rows);
  return composed(backend, (keep) => {
    const column = keep(run(tf.Reshape, { inputs: { x }, backend, attrs: { shape: [1, rows, 1, channels] } }));
    const partial = first > 1 ? keep(avgPoolRows(backend, column, first)) : column;
    const mean = keep(avgPoolRows(backend, partial, rows / first));
    const heap = backend as unknown as HeapBackend;
    const count = keep(heap.makeOutput([], 'float32'));
    heap.typedArrayFromHeap(count)[0] = rows;
    const total = keep(run(tf.Multiply, { inputs: { a: mean, b: count }, backend }));
    return run(tf.Reshape, { inputs: { x: total }, backend, attrs: { shape: [channels] } });
  });
}

export const MATMUL_AND_SUM_KERNELS: readonly KernelOverride[] = [
  { name: tf.BatchMatMul, covered: transposedMatMulCovered, impl: transposedMatMul },
  { name: tf.Sum, covered: leadingAxesSumCovered, impl: leadingAxesSum },
];
