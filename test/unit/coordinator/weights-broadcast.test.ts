/**
 * What workers hold after each weights broadcast: the weights themselves
 * when uncompressed; with 16-bit deltas, a replica identical on every worker
 * and within one rounding step of the true weights, however long the run.
 * A version may go out in parts while its step still runs (the tensors
 * updated early, then the rest); a worker ends up holding the same, and
 * never computes on a mix of two versions.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { weightsMessages } from '../../../coordinator/grpc/worker-session';
import { EncodedWeights, WeightsBroadcast } from '../../../coordinator/weights-broadcast';
import { buildPreset } from '../../../shared/models/presets';
import { mulberry32 } from '../../../shared/random';
import { readWeights } from '../../../shared/training/weights';
import { WeightsReceiver } from '../../../worker/weights-receiver';
import { maxAbsDiff, useBackend } from '../../helpers/backends';

const shape = { height: 6, width: 6, channels: 1 };
const mlp = (seed: number) => buildPreset('mlp', { shape, numClasses: 3, seed });

/** A worker's model, fed the broadcast's messages as its session would carry them. */
function worker() {
  const model = mlp(2);
  const receiver = new WeightsReceiver(model, 2 ** 30);
  const w = {
    model,
    version: -1,
    take(e: EncodedWeights): void {
      const [header, ...chunks] = weightsMessages(e, false);
      receiver.header(header.weights!, w.version);
      for (const c of chunks) {
        const done = receiver.chunk(c.chunk!.offset, c.chunk!.data);
        if (done?.kind === 'training') w.version = done.version;
      }
    },
  };
  return w;
}

/** What a fresh worker holds after `e`, a whole version. */
function received(e: EncodedWeights): Float32Array[] {
  const w = worker();
  w.take(e);
  return readWeights(w.model);
}

/** An optimizer-sized change to the trainable weights at `tensors`, as an update applies it. */
function nudge(model: LayersModel, tensors: number[], rand: () => number): void {
  for (const t of tensors) {
    const v = model.trainableWeights[t];
    const values = (v.read().dataSync() as Float32Array).map((x) => x + (rand() - 0.5) * 1e-3);
    v.write(tf.tensor(values, v.read().shape));
  }
}

describe('the weights broadcast', () => {
  before(() => useBackend('wasm'));

  it('sends the float32 weights themselves when uncompressed', () => {
    const model = mlp(1);
    const b = new WeightsBroadcast(model);
    const e = b.forWorker(-1, 0);
    assert.equal(e.delta, false);
    assert.equal(e.header.dtype, 'float32');
    assert.deepEqual(received(e), readWeights(model));
  });

  it('sends a version in parts: the tensors updated early while the step runs, the rest when it ends', () => {
    const model = mlp(1);
    const rand = mulberry32(3);
    const b = new WeightsBroadcast(model);
    const w = worker();
    w.take(b.forWorker(-1, 0));
    assert.equal(w.version, b.bump() - 1); // the first bump (training begins) has nothing early: its rest is everything
    w.take(b.forWorker(0, 0));
    const version1 = readWeights(model);
    assert.deepEqual(readWeights(w.model), version1);

    // The step updates the last layer first, then the one before, then the first at its end.
    nudge(model, [4, 5], rand);
    b.early([4, 5]);
    for (const p of b.earlyParts(1)) w.take(p);
    // Not in the model yet: a reassigned shard of this step must still compute on version 1.
    assert.equal(w.version, 1);
    assert.deepEqual(readWeights(w.model), version1);
    // A worker that is behind gets version 1 whole, untouched by the early update.
    assert.deepEqual(received(b.forWorker(-1, 0)), version1);
    assert.deepEqual(b.earlyParts(0), [], 'a worker behind gets no parts of a version it cannot complete');

    nudge(model, [2, 3], rand);
    b.early([2, 3]);
    w.take(b.earlyParts(1)[1]);
    nudge(model, [0, 1], rand);
    assert.equal(b.bump(), 2);
    const rest = b.forWorker(1, 2);
    assert.deepEqual(rest.tensors, [0, 1]);
    assert.equal(rest.header.totalBytes, (36 * 300 + 300) * 4, 'the rest carries only the first layer');
    w.take(rest);
    assert.equal(w.version, 2);
    assert.deepEqual(readWeights(w.model), readWeights(model));
    // One that missed a part gets the version whole.
    const whole = b.forWorker(1, 1);
    assert.equal(whole.tensors, undefined);
    assert.deepEqual(received(whole), readWeights(model));
  });

  it("reads a version's last tensors when the first worker needs them, and refuses an early update before that", () => {
    const model = mlp(1);
    const b = new WeightsBroadcast(model);
    b.bump();
    // The next step's updates must not reach the model before the version it starts from has gone out.
    assert.throws(() => b.early([4, 5]), /before its own weights went out/);
    const before = readWeights(model);
    nudge(model, [0], mulberry32(1));
    assert.deepEqual(received(b.forWorker(-1, 0))[1], before[1]);
    assert.notDeepEqual(received(b.forWorker(-1, 0))[0], before[0], 'read at first use, not at the bump');
    b.early([4, 5]);
  });

  for (const dtype of ['float16', 'bfloat16'] as const) {
    for (const inParts of [false, true]) {
      it(`${dtype}${inParts ? ', each version in parts' : ''}: a worker that follows every delta holds exactly the coordinator’s replica, close to the weights`, () => {
        const model = mlp(1);
        const rand = mulberry32(4);
        const b = new WeightsBroadcast(model, dtype);
        const first = b.forWorker(-1, 0);
        assert.equal(first.delta, false);
        const w = worker();
        w.take(first);
        for (let step = 1; step <= 200; step++) {
          if (inParts) {
            nudge(model, [4, 5], rand);
            b.early([4, 5]);
            nudge(model, [2, 3], rand);
            b.early([2, 3]);
            b.earlyParts(w.version).forEach((p) => w.take(p));
            nudge(model, [0, 1], rand);
          } else {
            nudge(model, [0, 1, 2, 3, 4, 5], rand);
          }
          const version = b.bump();
          const e = b.forWorker(version - 1, inParts ? 2 : 0);
          assert.equal(e.delta, true);
          const elements = e.header.tensors.reduce((n, s) => n + s.shape.reduce((a, c) => a * c, 1), 0);
          assert.equal(e.header.totalBytes, elements * 2);
          w.take(e);
          assert.equal(w.version, version);
        }
        const held = readWeights(w.model);
        // A worker joining late gets the replica in full: identical to the one that followed the deltas.
        assert.deepEqual(received(b.forWorker(-1, 0)), held);
        const tolerance = dtype === 'float16' ? 1e-6 : 1e-5;
        readWeights(model).forEach((t, i) => assert.ok(maxAbsDiff(t, held[i]) < tolerance, `tensor ${i}: ${maxAbsDiff(t, held[i])}`));
      });
    }
  }
});
