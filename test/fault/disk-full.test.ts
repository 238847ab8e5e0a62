/**
 * A disk that fills up during a run: the checkpoints already written stay
 * whole, the partial one gives its space back, the run stops with one line
 * that says what could not be written and how to go on, and once there is
 * room again the run continues from its newest checkpoint.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointStore } from '../../coordinator/checkpoint-store';
import { runCli } from '../helpers/cli';
import { withSmallDisk } from '../helpers/small-disk';
import { readSummary } from '../../shared/training/run-summary';

/** An mlp checkpoint (weights and Adam's two moments) is about 3.2 MB. */
const training = ['--model', 'mlp', '--backend', 'wasm', '--epochs', '1', '--max-steps', '30', '--checkpoint-every', '10'];

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)!;
}

describe('a run whose disk fills up', function () {
  this.timeout(300_000);
  const disk = withSmallDisk(2);

  it('stops with one line when not even the first checkpoint fits, and leaves no partial copy', () => {
    const runDir = path.join(disk().dir, 'run');
    const r = runCli(['baseline', ...training, '--run-dir', runDir]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.match(lastLine(r.stderr), /^gradfleet: failed: cannot write the checkpoint of step 10 to \S+ckpt-10: ENOSPC: no space left on device, write; no checkpoint was written yet/);
    assert.deepEqual(fs.readdirSync(path.join(runDir, 'checkpoints')), []);
  });

  it('keeps the checkpoints written before, names the newest, and continues from it once there is room', () => {
    disk().resize(5);
    const runDir = path.join(disk().dir, 'run');
    const full = runCli(['baseline', ...training, '--run-dir', runDir]);
    assert.equal(full.code, 1, full.stderr);
    const checkpoints = path.join(runDir, 'checkpoints');
    assert.match(lastLine(full.stderr), new RegExp(`cannot write the checkpoint of step 20 .*; the newest checkpoint is ${path.join(checkpoints, 'ckpt-10')} \\(step 10\\); continue the run with the same options and --run-dir ${runDir} --resume auto$`));
    assert.deepEqual(fs.readdirSync(checkpoints).sort(), ['ckpt-10', 'latest']);
    assert.equal(new CheckpointStore(runDir).newestValid().found?.step, 10);

    disk().resize(64);
    const resumed = runCli(['baseline', ...training, '--run-dir', runDir, '--resume', 'auto']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout + resumed.stderr, /resum\w* .*step 10/i);
    assert.equal(readSummary(runDir).steps_run, 30);
  });
});
