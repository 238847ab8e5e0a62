/**
 * What workers hold after each weights broadcast: the weights themselves
 * when uncompressed; with 16-bit deltas, a replica identical on every worker
 * and within one rounding step of the true weights, however long the run.
 */
import { strict as assert } from 'node:assert';
import { decode, WeightsBroadcast } from '../../../coordinator/weights-broadcast';
import { buildPreset } from '../../../shared/models/presets';
import { mulberry32 } from '../../../shared/random';
import { addInto, readWeights, writeWeights } from '../../../shared/training/weights';
import { maxAbsDiff, useBackend } from '../../helpers/backends';

const shape = { height: 6, width: 6, channels: 1 };

describe('the weights broadcast', () => {
  before(() => useBackend('wasm'));

  it('sends the float32 weights themselves when uncompressed', () => {
    const model = buildPreset('mlp', { shape, numClasses: 3, seed: 1 });
    const b = new WeightsBroadcast(model);
    const e = b.forWorker(-1);
    assert.equal(e.delta, false);
    assert.equal(e.header.dtype, 'float32');
    assert.deepEqual(decode(e, b.specs), readWeights(model));
  });

  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype}: a worker that follows every delta holds exactly the coordinator’s replica, close to the weights`, () => {
      const model = buildPreset('mlp', { shape, numClasses: 3, seed: 1 });
      const b = new WeightsBroadcast(model, dtype);
      const first = b.forWorker(-1);
      assert.equal(first.delta, false);
      const worker = decode(first, b.specs);
      const late: Float32Array[][] = [];
      const rand = mulberry32(4);
      for (let step = 1; step <= 200; step++) {
        // An optimizer-sized change to every weight.
        const w = readWeights(model).map((t) => t.map((x) => x + (rand() - 0.5) * 1e-3));
        writeWeights(model, w);
        const version = b.bump();
        const e = b.forWorker(version - 1);
        assert.equal(e.delta, true);
        assert.equal(e.header.totalBytes, b.specs.reduce((n, s) => n + s.shape.reduce((a, c) => a * c, 1), 0) * 2);
        addInto(worker, decode(e, b.specs));
        if (step === 200) late.push(decode(b.forWorker(-1), b.specs));
      }
      // A worker joining late gets the replica in full: identical to the one that followed the deltas.
      late[0].forEach((t, i) => assert.deepEqual(t, worker[i]));
      const tolerance = dtype === 'float16' ? 1e-6 : 1e-5;
      readWeights(model).forEach((t, i) => assert.ok(maxAbsDiff(t, worker[i]) < tolerance, `tensor ${i}: ${maxAbsDiff(t, worker[i])}`));
    });
  }
});
