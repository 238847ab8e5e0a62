/**
 * A worker takes the run's dataset from its own cache when it holds a copy
 * with the run's SHA-256, streams it from the coordinator once otherwise, and
 * never trains on bytes that do not match the identity.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dataset, makeDataset } from '../../../shared/data/dataset';
import { packDataset, unpackDataset } from '../../../shared/data/dataset-archive';
import type { DatasetChunkMsg, DatasetIdentityMsg } from '../../../shared/wire/protocol';
import { obtainDataset } from '../../../worker/dataset-cache';
import { lineLogger } from '../../helpers/line-log';
import { tmpDir } from '../../helpers/tmp';

const shape = { height: 2, width: 2, channels: 1 };

function tinyDataset(seed: number): Dataset {
  const set = (count: number) => ({ images: Uint8Array.from({ length: count * 4 }, (_, i) => (i * seed) % 256), labels: Uint8Array.from({ length: count }, (_, i) => i % 3), count });
  // A name no worker has on disk, so only the cache or the coordinator can supply it.
  return makeDataset({ name: 'idx:/nowhere', source: 'test', shape, numClasses: 3, classNames: ['a', 'b', 'c'], train: set(6), test: set(3) });
}

function identityOf(d: Dataset): DatasetIdentityMsg {
  return { name: d.name, sha256: d.sha256, height: 2, width: 2, channels: 1, numClasses: 3, trainCount: d.train.count };
}

/** A coordinator that streams `bytes` in chunks of `size` and counts how often it was asked. */
function coordinatorSending(bytes: Buffer, size = 16) {
  const asked: string[] = [];
  const fetch = (sha256: string): AsyncIterable<DatasetChunkMsg> => {
    asked.push(sha256);
    return (async function* () {
      for (let offset = 0; offset < bytes.length; offset += size) yield { offset, data: bytes.subarray(offset, offset + size) } as DatasetChunkMsg;
    })();
  };
  return { fetch, asked };
}

describe("a worker's dataset cache", () => {
  const dataset = tinyDataset(7);

  it('streams a dataset it lacks once, then takes it from the cache', async () => {
    const cacheDir = tmpDir();
    const coordinator = coordinatorSending(packDataset(dataset));
    const sources = { dataDir: tmpDir(), cacheDir, fetch: coordinator.fetch, log: lineLogger('warn').log };
    const first = await obtainDataset(identityOf(dataset), sources);
    const second = await obtainDataset(identityOf(dataset), sources);
    assert.deepEqual(coordinator.asked, [dataset.sha256]);
    assert.equal(first.sha256, dataset.sha256);
    assert.equal(second.sha256, dataset.sha256);
    assert.deepEqual(second.train.images, dataset.train.images);
    assert.deepEqual(fs.readdirSync(cacheDir), [`${dataset.sha256}.gfds`]);
  });

  it('refuses a stream whose bytes are not the dataset the run named', async () => {
    const other = tinyDataset(11);
    const coordinator = coordinatorSending(packDataset(other));
    const cacheDir = tmpDir();
    await assert.rejects(obtainDataset(identityOf(dataset), { dataDir: tmpDir(), cacheDir, fetch: coordinator.fetch, log: lineLogger('warn').log }), /SHA-256 .*expected/);
    assert.deepEqual(fs.readdirSync(cacheDir), [], 'nothing unverified is cached');
  });

  it('refuses a stream with a gap between its chunks', async () => {
    const bytes = packDataset(dataset);
    const fetch = () =>
      (async function* () {
        yield { offset: 0, data: bytes.subarray(0, 16) } as DatasetChunkMsg;
        yield { offset: 32, data: bytes.subarray(32) } as DatasetChunkMsg;
      })();
    await assert.rejects(obtainDataset(identityOf(dataset), { dataDir: tmpDir(), cacheDir: tmpDir(), fetch, log: lineLogger('warn').log }), /dataset chunk at 32, expected 16/);
  });

  it('streams the dataset again in place of a damaged cached copy', async () => {
    const cacheDir = tmpDir();
    const file = path.join(cacheDir, `${dataset.sha256}.gfds`);
    const bytes = packDataset(dataset);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    const coordinator = coordinatorSending(packDataset(dataset));
    const { log, lines } = lineLogger('warn');
    const d = await obtainDataset(identityOf(dataset), { dataDir: tmpDir(), cacheDir, fetch: coordinator.fetch, log });
    assert.equal(d.sha256, dataset.sha256);
    assert.equal(coordinator.asked.length, 1);
    assert.match(lines.join('\n'), /ignoring damaged cache .*truncated/);
    assert.equal(unpackDataset(fs.readFileSync(file), dataset.sha256).sha256, dataset.sha256, 'the damaged copy is replaced');
  });

  it('trains on a streamed dataset that its cache cannot keep, and says the next run will stream it again', async () => {
    const notADirectory = path.join(tmpDir(), 'cache');
    fs.writeFileSync(notADirectory, 'a file where the cache directory should be');
    const coordinator = coordinatorSending(packDataset(dataset));
    const { log, lines } = lineLogger('warn');
    const d = await obtainDataset(identityOf(dataset), { dataDir: tmpDir(), cacheDir: notADirectory, fetch: coordinator.fetch, log });
    assert.equal(d.sha256, dataset.sha256);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^cannot keep dataset idx:\/nowhere in the cache .*cache \(.*\); it will be streamed again next time$/);
  });
});
