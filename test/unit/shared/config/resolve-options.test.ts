import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TRAINING_OPTIONS } from '../../../../shared/config/option-table';
import { resolveOptions } from '../../../../shared/config/resolve-options';
import { compileTrainingOptions } from '../../../../shared/config/training-options';
import { ConfigError } from '../../../../shared/errors';
import { tmpDir } from '../../../helpers/tmp';

function resolve(flags: Record<string, unknown>, env: Record<string, string> = {}) {
  return resolveOptions(TRAINING_OPTIONS, { flags, env });
}

describe('options: defaults < config file < GRADFLEET_* environment < flags', () => {
  it('uses the table defaults when nothing is given', () => {
    const o = compileTrainingOptions(resolve({}));
    assert.equal(o.model, 'keras-cnn');
    assert.equal(o.batchSize, 64);
    assert.equal(o.backend, 'auto');
    assert.equal(o.earlyStopping, undefined);
    assert.match(o.runDir, /^runs\/keras-cnn-\d{8}-\d{6}$/);
  });

  it('lets each source override the one below it', () => {
    const file = path.join(tmpDir(), 'run.yaml');
    fs.writeFileSync(file, 'model: mlp\nbatch-size: 128\nepochs: 7\nlr: 0.01\n');
    const o = compileTrainingOptions(resolve({ config: file, lr: '0.05' }, { GRADFLEET_BATCH_SIZE: '32', GRADFLEET_LR: '0.02' }));
    assert.equal(o.model, 'mlp'); // config file
    assert.equal(o.epochs, 7); // config file
    assert.equal(o.batchSize, 32); // environment beats config file
    assert.equal(o.lr, 0.05); // flag beats environment
  });

  it('reads JSON config files and camelCase keys too', () => {
    const file = path.join(tmpDir(), 'run.json');
    fs.writeFileSync(file, JSON.stringify({ earlyStopping: true, patience: 5, restoreBestWeights: true }));
    const o = compileTrainingOptions(resolve({ config: file }));
    assert.equal(o.earlyStopping?.patience, 5);
    assert.equal(o.earlyStopping?.restoreBestWeights, true);
  });

  it('takes the preset’s regularisation unless told otherwise', () => {
    assert.equal(compileTrainingOptions(resolve({ model: 'mlp-l2' })).l2, 1e-4);
    assert.equal(compileTrainingOptions(resolve({ model: 'mlp-l2', l2: '0' })).l2, 0);
    assert.equal(compileTrainingOptions(resolve({ model: 'cnn' })).dropout, 0.5);
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['a negative epoch count', () => resolve({ epochs: '-1' }), /--epochs \(command line\): -1 is below the minimum 1/],
    ['a non-integer batch size', () => resolve({ batchSize: '6.5' }), /--batch-size \(command line\): '6.5' is not an integer/],
    ['a non-number from the environment', () => resolve({}, { GRADFLEET_LR: 'fast' }), /--lr \(environment GRADFLEET_LR\): 'fast' is not a number/],
    ['an unknown backend', () => resolve({ backend: 'tpu' }), /--backend \(command line\): 'tpu' is not one of auto, tensorflow-gpu/],
    ['an unknown model', () => compileTrainingOptions(resolve({ model: 'resnet' })), /unknown model 'resnet'/],
    ['an unknown dataset', () => compileTrainingOptions(resolve({ dataset: 'cifar' })), /unknown dataset 'cifar'/],
    ['a zero learning rate', () => resolve({ lr: '0' }), /--lr \(command line\): 0 must be greater than 0/],
    ['--freeze-layers without --init-from', () => compileTrainingOptions(resolve({ freezeLayers: '2' })), /--freeze-layers needs --init-from/],
    ['a run id with a slash', () => compileTrainingOptions(resolve({ runId: 'a/b' })), /--run-id 'a\/b': use letters, digits/],
    ['a run id of dots alone (runs/.. is the directory above runs/)', () => compileTrainingOptions(resolve({ runId: '..' })), /--run-id '\.\.': .*not dots alone/],
  ];
  for (const [what, fn, message] of bad) {
    it(`rejects ${what} with a ConfigError naming the option`, () => {
      assert.throws(fn, (err: Error) => err instanceof ConfigError && message.test(err.message));
    });
  }

  it('rejects unknown keys and unreadable config files', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'modle: mlp\n');
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'model: [unclosed\n');
    fs.writeFileSync(path.join(dir, 'c.yaml'), '- a list\n');
    assert.throws(() => resolve({ config: path.join(dir, 'a.yaml') }), /unknown option 'modle'/);
    assert.throws(() => resolve({ config: path.join(dir, 'b.yaml') }), /config file .*b\.yaml: .* at line 2, column 1$/);
    assert.throws(() => resolve({ config: path.join(dir, 'c.yaml') }), /expected a mapping/);
    assert.throws(() => resolve({ config: path.join(dir, 'missing.yaml') }), /missing\.yaml: not found/);
  });

  it('rejects a list or a mapping where an option takes one value', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'list.yaml'), 'epochs: [1, 2]\n');
    fs.writeFileSync(path.join(dir, 'map.yaml'), 'model:\n  name: mlp\n');
    assert.throws(() => resolve({ config: path.join(dir, 'list.yaml') }), /ConfigError: --epochs \(config file \S+list\.yaml\): expected one value, got a list$/);
    assert.throws(() => resolve({ config: path.join(dir, 'map.yaml') }), /ConfigError: --model \(config file \S+map\.yaml\): expected one value, got a mapping$/);
  });
});
