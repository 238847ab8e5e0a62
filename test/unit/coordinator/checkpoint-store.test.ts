/** Checkpoints are complete or ignored: a torn write never becomes the one a run resumes from. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointStore } from '../../../coordinator/checkpoint-store';
import { howToContinue } from '../../../coordinator/run-checkpoint';
import { tmpDir } from '../../helpers/tmp';

const files = (step: number) => ({
  'model.json': JSON.stringify({ step }),
  'weights.bin': new Uint8Array(1000).fill(step % 256),
  'state.json': JSON.stringify({ step, epoch: 1 }),
});

describe('the checkpoint store', () => {
  it('writes every file with a manifest, and points latest at the newest', () => {
    const store = new CheckpointStore(tmpDir());
    store.write(10, files(10));
    const dir = store.write(20, files(20));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['MANIFEST.json', 'model.json', 'state.json', 'weights.bin']);
    assert.equal(fs.readFileSync(path.join(store.dir, 'latest'), 'utf8').trim(), 'ckpt-20');
    assert.equal(CheckpointStore.verify(dir), undefined);
    assert.deepEqual(store.newestValid().found, { step: 20, dir });
  });

  it('passes over a checkpoint with a truncated file, saying why, and resumes from the previous one', () => {
    const store = new CheckpointStore(tmpDir());
    const older = store.write(10, files(10));
    const newer = store.write(20, files(20));
    fs.truncateSync(path.join(newer, 'weights.bin'), 10);
    const { found, skipped } = store.newestValid();
    assert.equal(found?.dir, older);
    assert.equal(skipped[0].dir, newer);
    assert.match(skipped[0].reason, /weights\.bin has 10 bytes, the manifest says 1000/);
  });

  it('passes over corrupted bytes of the same length', () => {
    const store = new CheckpointStore(tmpDir());
    store.write(10, files(10));
    const newer = store.write(20, files(20));
    const bytes = fs.readFileSync(path.join(newer, 'weights.bin'));
    bytes[500] ^= 0xff;
    fs.writeFileSync(path.join(newer, 'weights.bin'), bytes);
    assert.match(store.newestValid().skipped[0].reason, /does not match its SHA-256/);
  });

  it('ignores a write that died before its manifest (and its leftover temporary directory)', () => {
    const store = new CheckpointStore(tmpDir());
    const older = store.write(10, files(10));
    fs.mkdirSync(path.join(store.dir, 'ckpt-30.tmp-999'));
    fs.mkdirSync(path.join(store.dir, 'ckpt-20'));
    fs.writeFileSync(path.join(store.dir, 'ckpt-20', 'model.json'), '{}');
    const { found, skipped } = store.newestValid();
    assert.equal(found?.dir, older);
    assert.match(skipped[0].reason, /write that never finished/);
    assert.match(skipped[1].reason, /MANIFEST\.json is missing/);
  });

  it('keeps the newest K checkpoints, and best/ separately', () => {
    const store = new CheckpointStore(tmpDir());
    for (const step of [10, 20, 30, 40]) store.write(step, files(step));
    store.markBest(store.pathOf(20));
    assert.deepEqual(store.prune(2).map((d) => path.basename(d)).sort(), ['ckpt-10', 'ckpt-20']);
    assert.deepEqual(store.list().map((c) => c.step), [40, 30]);
    assert.equal(CheckpointStore.verify(path.join(store.dir, 'best')), undefined);
    assert.equal(JSON.parse(fs.readFileSync(path.join(store.dir, 'best', 'state.json'), 'utf8')).step, 20);
  });

  it('does not trust a manifest that omits a required file, names a file outside the checkpoint, or has a bad entry', () => {
    const store = new CheckpointStore(tmpDir(), 0, ['model.json', 'state.json', 'weights.bin', 'optimizer.json']);
    const dir = store.write(10, files(10));
    assert.match(CheckpointStore.verify(dir, ['optimizer.json'])!, /does not list optimizer\.json/);
    assert.equal(store.newestValid().found, undefined);
    const manifestPath = path.join(dir, 'MANIFEST.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    for (const [name, entry, why] of [
      ['../../outside', { bytes: 1, sha256: 'x' }, /bad file name/],
      ['model.json', null, /bad entry for model\.json/],
    ] as const) {
      fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, files: { ...manifest.files, [name]: entry } }));
      assert.match(CheckpointStore.verify(dir)!, why);
    }
  });
});

describe('what a stopped run is told', () => {
  it('names the newest checkpoint that verifies and the flags that continue from it', () => {
    const store = new CheckpointStore(tmpDir());
    const older = store.write(10, files(10));
    fs.truncateSync(path.join(store.write(20, files(20)), 'weights.bin'), 10);
    assert.equal(howToContinue(store, 'runs/r1'), `the newest checkpoint is ${older} (step 10); continue the run with the same options and --run-dir runs/r1 --resume auto`);
  });

  it('asks for --resume-force and the change when the same options would fail again (a diverged run)', () => {
    const store = new CheckpointStore(tmpDir());
    const dir = store.write(10, files(10));
    assert.equal(howToContinue(store, 'runs/r1', 'a lower --lr'), `the newest checkpoint is ${dir} (step 10); continue from it with a lower --lr and --run-dir runs/r1 --resume auto --resume-force`);
  });

  it('says when there is nothing to continue from', () => {
    assert.match(howToContinue(new CheckpointStore(tmpDir()), 'runs/r1'), /^no checkpoint was written yet .*the run can only start again$/);
  });
});
