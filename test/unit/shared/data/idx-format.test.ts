import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { IDX_FILES, loadIdxDataset } from '../../../../shared/data/idx-dataset';
import { encodeIdx, parseIdx } from '../../../../shared/data/idx-format';
import { DataFormatError } from '../../../../shared/errors';
import { writeIdxDataset } from '../../../helpers/idx-fixtures';
import { tmpDir } from '../../../helpers/tmp';

describe('IDX files', () => {
  const image = encodeIdx([2, 3, 3], Uint8Array.from({ length: 18 }, (_, i) => i));

  it('reads dimensions and bytes, plain or gzipped', () => {
    for (const bytes of [image, zlib.gzipSync(image)]) {
      const idx = parseIdx(bytes, 'x');
      assert.deepEqual(idx.dims, [2, 3, 3]);
      assert.deepEqual([...idx.data], Array.from({ length: 18 }, (_, i) => i));
    }
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['a wrong magic number', Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 1, 5]), /not an IDX file/],
    ['an unsupported element type', Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), /float, only unsigned byte/],
    ['an unknown element type', Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), /unknown IDX element type/],
    ['a truncated header', Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2]), /truncated IDX header/],
    ['truncated values', image.subarray(0, image.length - 5), /truncated: header promises 18 values/],
    ['trailing bytes', Buffer.concat([image, Buffer.from([1, 2])]), /2 unexpected bytes/],
    ['a zero dimension', encodeIdx([0, 3], new Uint8Array(0)), /dimension 0 is zero/],
    ['corrupt gzip', zlib.gzipSync(image).subarray(0, 20), /gzip data is corrupt or truncated/],
    ['an empty file', new Uint8Array(0), /too short/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what} with a DataFormatError naming the file`, () => {
      assert.throws(() => parseIdx(bytes, 'some/file.idx'), (err: Error) => {
        assert.ok(err instanceof DataFormatError);
        assert.match(err.message, /^some\/file\.idx: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  describe('a dataset directory in the MNIST layout', () => {
    it('loads train and test sets with their pixels and labels', () => {
      const dir = tmpDir();
      const fx = writeIdxDataset(dir, { train: 30, test: 12, gzip: true });
      const d = loadIdxDataset(dir, `idx:${dir}`);
      assert.deepEqual(d.shape, { height: 8, width: 8, channels: 1 });
      assert.equal(d.train.count, 30);
      assert.equal(d.test.count, 12);
      assert.deepEqual([...d.train.labels], [...fx.trainLabels]);
      assert.deepEqual([...d.test.images], [...fx.testImages]);
      assert.match(d.sha256, /^[0-9a-f]{64}$/);
    });

    it('names the missing file', () => {
      const dir = tmpDir();
      writeIdxDataset(dir, { train: 5, test: 5 });
      fs.rmSync(path.join(dir, IDX_FILES.testLabels));
      assert.throws(() => loadIdxDataset(dir, 'd'), /t10k-labels-idx1-ubyte: file not found/);
    });

    it('rejects images and labels of different counts', () => {
      const dir = tmpDir();
      writeIdxDataset(dir, { train: 5, test: 5 });
      fs.writeFileSync(path.join(dir, IDX_FILES.trainLabels), encodeIdx([4], new Uint8Array(4)));
      assert.throws(() => loadIdxDataset(dir, 'd'), /5 images but .*train-labels-idx1-ubyte has 4 labels/);
    });

    it('rejects train and test images of different sizes', () => {
      const dir = tmpDir();
      writeIdxDataset(dir, { train: 5, test: 5 });
      fs.writeFileSync(path.join(dir, IDX_FILES.testImages), encodeIdx([5, 9, 9], new Uint8Array(405)));
      assert.throws(() => loadIdxDataset(dir, 'd'), /train images are 8x8x1 but test images are 9x9x1/);
    });

    it('gives the same identity to the same data, a different one to different data', () => {
      const a = tmpDir();
      const b = tmpDir();
      const c = tmpDir();
      writeIdxDataset(a, { train: 10, test: 4, seed: 1 });
      writeIdxDataset(b, { train: 10, test: 4, seed: 1, gzip: true });
      writeIdxDataset(c, { train: 10, test: 4, seed: 2 });
      assert.equal(loadIdxDataset(a, 'a').sha256, loadIdxDataset(b, 'b').sha256);
      assert.notEqual(loadIdxDataset(a, 'a').sha256, loadIdxDataset(c, 'c').sha256);
    });
  });
});
