import { strict as assert } from 'node:assert';
import { median } from '../../../shared/median';

describe('median', () => {
  it('is the middle value of an odd count, the mean of the middle two of an even one, in any order', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });

  it('refuses an empty list', () => {
    assert.throws(() => median([]), /empty/);
  });
});
