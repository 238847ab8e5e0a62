/** What a resumed run must share with its checkpoint, and how a refusal names what it does not. */
import { strict as assert } from 'node:assert';
import { identityDifferences, identityHash, trainingIdentity } from '../../../coordinator/training-identity';
import { coordinatorOptionsFor } from '../../helpers/coordinator-options';

const identityOf = (flags: Record<string, string | boolean>) => trainingIdentity(coordinatorOptionsFor({ model: 'mlp', seed: '1', ...flags }));

describe('the training options a checkpoint holds a resumed run to', () => {
  it('are the same for the same flags, and hash the same', () => {
    assert.deepEqual(identityDifferences(identityOf({}), identityOf({})), []);
    assert.equal(identityHash(identityOf({}), 'abc'), identityHash(identityOf({}), 'abc'));
  });

  it('leave out what does not change the computation (epochs, checkpoints, logging)', () => {
    const a = identityOf({});
    const b = identityOf({ epochs: '30', checkpointEvery: '7', logLevel: 'debug' });
    assert.equal(identityHash(a, 'abc'), identityHash(b, 'abc'));
  });

  it('name each flag that differs, with both values', () => {
    const now = identityOf({ model: 'keras-cnn', lr: '0.5', augment: true });
    const then = identityOf({});
    assert.deepEqual(identityDifferences(now, then), [
      '--model keras-cnn (the checkpoint: mlp)',
      `--lr 0.5 (the checkpoint: ${then.lr})`,
      '--augment on (the checkpoint: off)',
      `--augment-shift ${now['augment-shift']} (the checkpoint: none)`,
      `--augment-rotate ${now['augment-rotate']} (the checkpoint: none)`,
    ]);
    assert.notEqual(identityHash(now, 'abc'), identityHash(then, 'abc'));
  });

  it('hash the dataset too', () => assert.notEqual(identityHash(identityOf({}), 'abc'), identityHash(identityOf({}), 'abd')));

  it('take a flag a checkpoint does not record as unset there', () => {
    const { 'freeze-layers': _, ...older } = identityOf({});
    assert.deepEqual(identityDifferences(identityOf({}), older), ['--freeze-layers 0 (the checkpoint: none)']);
  });
});
