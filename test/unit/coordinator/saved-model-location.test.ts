import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointStore } from '../../../coordinator/checkpoint-store';
import { CHECKPOINT_FILES } from '../../../coordinator/checkpoint-files';
import { locateCheckpoint, locateSavedModel } from '../../../coordinator/saved-model-location';
import { tmpDir } from '../../helpers/tmp';

/** A run directory as training leaves it: checkpoints at these steps and, when `finished`, model/ (written after the last checkpoint). */
function runDirectory(steps: number[], finished: boolean): string {
  const dir = tmpDir();
  const store = new CheckpointStore(dir, 0, CHECKPOINT_FILES);
  for (const step of steps) store.write(step, Object.fromEntries(CHECKPOINT_FILES.map((f) => [f, `${f} of step ${step}`])));
  if (finished) {
    fs.mkdirSync(path.join(dir, 'model'));
    fs.writeFileSync(path.join(dir, 'model', 'model.json'), '{}');
  }
  return dir;
}

function age(file: string, seconds: number): void {
  const t = Date.now() / 1000 - seconds;
  fs.utimesSync(file, t, t);
}

describe('what evaluate and predict take for --checkpoint', () => {
  it('a directory with model.json in it, as it is', () => {
    const run = runDirectory([10], true);
    assert.deepEqual(locateSavedModel(path.join(run, 'model')), { dir: path.join(run, 'model') });
    assert.deepEqual(locateSavedModel(path.join(run, 'checkpoints', 'ckpt-10')), { dir: path.join(run, 'checkpoints', 'ckpt-10') });
  });

  it("a finished run's directory: its final model", () => {
    const run = runDirectory([10, 20], true);
    assert.deepEqual(locateSavedModel(run), { dir: path.join(run, 'model'), chosen: "the run's final model" });
  });

  it('the directory of a run that has not finished (still going, or killed): its newest checkpoint that verifies, saying what it passed over', () => {
    const run = runDirectory([10, 20], false);
    fs.truncateSync(path.join(run, 'checkpoints', 'ckpt-20', 'weights.bin'), 3);
    assert.deepEqual(locateSavedModel(run), {
      dir: path.join(run, 'checkpoints', 'ckpt-10'),
      chosen: 'the newest checkpoint that verifies (step 10); passed over ckpt-20: weights.bin has 3 bytes, the manifest says 22',
    });
  });

  it('the directory of a run resumed past its end: its newest checkpoint, which is newer than its model/', () => {
    const run = runDirectory([10, 20], true);
    age(path.join(run, 'model', 'model.json'), 60);
    assert.equal(locateSavedModel(run).dir, path.join(run, 'checkpoints', 'ckpt-20'));
  });

  it('checkpoints/ or checkpoints/latest: the newest checkpoint, even where the run has finished', () => {
    const run = runDirectory([10, 20], true);
    for (const given of [path.join(run, 'checkpoints'), path.join(run, 'checkpoints', 'latest')]) {
      assert.equal(locateSavedModel(given).dir, path.join(run, 'checkpoints', 'ckpt-20'), given);
    }
  });

  it('refuses, naming the problem, a directory that is none of these, checkpoints that all fail to verify, and a file other than latest', () => {
    const empty = tmpDir();
    assert.throws(() => locateSavedModel(empty), new RegExp(`^ModelError: ${empty}: no model\\.json here, and no model/ or checkpoints/ of a run$`));
    const run = runDirectory([10], false);
    fs.rmSync(path.join(run, 'checkpoints', 'ckpt-10', 'state.json'));
    assert.throws(() => locateSavedModel(run), new RegExp(`: no checkpoint that verifies in ${run}/checkpoints \\(ckpt-10: state\\.json is missing\\)$`));
    assert.throws(() => locateSavedModel(path.join(run, 'checkpoints', 'ckpt-10', 'MANIFEST.json')), /MANIFEST\.json: a file; give a directory with model\.json, a run directory or its checkpoints\/$/);
    assert.throws(() => locateSavedModel(path.join(empty, 'nothing')), /nothing: no such file or directory$/);
  });

  it('for --resume: a checkpoint as it is, and for a run directory (finished or not), its checkpoints/ or latest, the newest checkpoint that verifies', () => {
    const run = runDirectory([10, 20], true);
    const ckpt20 = path.join(run, 'checkpoints', 'ckpt-20');
    assert.deepEqual(locateCheckpoint(path.join(run, 'checkpoints', 'ckpt-10')), { dir: path.join(run, 'checkpoints', 'ckpt-10') });
    for (const given of [run, path.join(run, 'checkpoints'), path.join(run, 'checkpoints', 'latest')]) {
      assert.deepEqual(locateCheckpoint(given), { dir: ckpt20, chosen: 'the newest checkpoint that verifies (step 20)' }, given);
    }
  });

  it("for --resume: refuses a run's model/, which has no optimizer state", () => {
    const run = runDirectory([10], true);
    assert.throws(() => locateCheckpoint(path.join(run, 'model')), /model: a saved model, not a checkpoint \(it holds no optimizer state or position in the run\); give a checkpoint \(RUN\/checkpoints\/ckpt-N\) or the run directory$/);
  });
});
