import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import { loadFolderDataset } from '../../../../shared/data/folder-dataset';
import { encodePng } from '../../../../shared/data/image-codec';
import { tmpDir } from '../../../helpers/tmp';

/** A solid-colour RGBA image. */
function solid(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const px = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) px.set([...rgb, 255], i * 4);
  return px;
}

function writeImage(file: string, width: number, height: number, rgb: [number, number, number]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rgba = solid(width, height, rgb);
  if (file.endsWith('.png')) fs.writeFileSync(file, encodePng(width, height, rgba));
  else fs.writeFileSync(file, jpeg.encode({ data: Buffer.from(rgba), width, height }, 95).data);
}

describe('folder datasets (one subfolder per class, train/ and test/)', () => {
  function catsAndDogs(): string {
    const dir = tmpDir();
    writeImage(path.join(dir, 'train/cats/a.png'), 40, 30, [200, 0, 0]);
    writeImage(path.join(dir, 'train/cats/b.jpg'), 20, 20, [210, 10, 10]);
    writeImage(path.join(dir, 'train/dogs/c.png'), 64, 48, [0, 0, 220]);
    writeImage(path.join(dir, 'test/cats/d.jpeg'), 33, 33, [190, 0, 0]);
    writeImage(path.join(dir, 'test/dogs/e.png'), 10, 12, [0, 0, 200]);
    fs.writeFileSync(path.join(dir, 'train/dogs/notes.txt'), 'not an image');
    return dir;
  }

  it('takes classes from train/ subfolders (sorted), resizes PNG and JPEG to the image size, RGB', () => {
    const d = loadFolderDataset(catsAndDogs(), 'folder:x', { imageSize: 16, channels: 3 });
    assert.deepEqual(d.classNames, ['cats', 'dogs']);
    assert.deepEqual(d.shape, { height: 16, width: 16, channels: 3 });
    assert.equal(d.train.count, 3);
    assert.equal(d.test.count, 2);
    assert.deepEqual([...d.train.labels], [0, 0, 1]);
    const firstPixel = [...d.train.images.subarray(0, 3)];
    assert.deepEqual(firstPixel, [200, 0, 0]);
    const dogPixel = [...d.train.images.subarray(2 * 16 * 16 * 3, 2 * 16 * 16 * 3 + 3)];
    assert.deepEqual(dogPixel, [0, 0, 220]);
  });

  it('converts to grey with luma weights', () => {
    const d = loadFolderDataset(catsAndDogs(), 'folder:x', { imageSize: 8, channels: 1 });
    assert.equal(d.train.images.length, 3 * 64);
    assert.equal(d.train.images[0], Math.round(0.299 * 200));
  });

  it('rejects test classes that train/ does not have, and folders without images', () => {
    const dir = catsAndDogs();
    writeImage(path.join(dir, 'test/birds/f.png'), 5, 5, [1, 2, 3]);
    assert.throws(() => loadFolderDataset(dir, 'x', { imageSize: 8, channels: 1 }), /classes not in train\/: birds/);
    const empty = tmpDir();
    fs.mkdirSync(path.join(empty, 'train/a'), { recursive: true });
    fs.mkdirSync(path.join(empty, 'train/b'), { recursive: true });
    fs.mkdirSync(path.join(empty, 'test'), { recursive: true });
    assert.throws(() => loadFolderDataset(empty, 'x', { imageSize: 8, channels: 1 }), /no .* images found/);
  });

  it('names an undecodable image file', () => {
    const dir = catsAndDogs();
    fs.writeFileSync(path.join(dir, 'train/cats/broken.png'), 'not a png');
    assert.throws(() => loadFolderDataset(dir, 'x', { imageSize: 8, channels: 1 }), /broken\.png: cannot decode image/);
  });
});
