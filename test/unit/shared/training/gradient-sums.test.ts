/** The checks and sums the coordinator applies to every gradient it accepts. */
import { strict as assert } from 'node:assert';
import { indexOfNonFinite } from '../../../../shared/training/gradient-sums';

describe('finding a NaN or an infinity in a gradient', () => {
  const finite = [0, -0, 1, -2.5, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, 1.1754943508222875e-38];

  for (const Type of [Float32Array, Float64Array]) {
    it(`${Type.name}: returns the index of the first NaN, +Infinity or -Infinity, and -1 when every value is finite`, () => {
      assert.equal(indexOfNonFinite(Type.from(finite)), -1);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, 4, finite.length]) {
          const values = Type.from([...finite.slice(0, at), bad, ...finite.slice(at), NaN]);
          assert.equal(indexOfNonFinite(values), at, `${bad} at ${at}`);
        }
      }
    });
  }

  it('reads a Float32Array that is a view into a larger buffer from its own start', () => {
    const buffer = new Float32Array([NaN, 1, 2, 3, Infinity]);
    assert.equal(indexOfNonFinite(buffer.subarray(1, 4)), -1);
    assert.equal(indexOfNonFinite(buffer.subarray(1)), 3);
  });
});
