/**
 * A worker puts a version of the weights into its model only when it holds
 * all of it, follows the coordinator when it moves on to a newer version,
 * and refuses weights messages that cannot be right with a reason.
 */
import { strict as assert } from 'node:assert';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { weightsMessages } from '../../../coordinator/grpc/worker-session';
import type { EncodedWeights } from '../../../coordinator/weights-broadcast';
import { buildPreset } from '../../../shared/models/presets';
import { readWeights } from '../../../shared/training/weights';
import { chunksOf, encodeTensorSet, TensorSpec } from '../../../shared/wire/tensor-codec';
import { WeightsReceiver } from '../../../worker/weights-receiver';
import { useBackend } from '../../helpers/backends';

const shape = { height: 6, width: 6, channels: 1 };

describe("a worker's weights receiver", () => {
  let model: LayersModel;
  let specs: TensorSpec[];
  before(async () => {
    await useBackend('wasm');
    model = buildPreset('mlp', { shape, numClasses: 3, seed: 1 });
    specs = model.weights.map((w) => ({ name: w.originalName, shape: w.read().shape }));
  });
  /** Version `version` of tensors `tensors` (all when absent), every value `fill`. */
  const message = (version: number, fill: number, tensors?: number[], delta = false): EncodedWeights => {
    const positions = tensors ?? specs.map((_, i) => i);
    const values = positions.map((i) => new Float32Array(specs[i].shape.reduce((a, b) => a * b, 1)).fill(fill));
    const { header, parts } = encodeTensorSet(values, positions.map((i) => specs[i]), 'float32');
    return { version, delta, tensors, header, chunks: [...chunksOf(parts)] };
  };
  /** Feeds one message; returns whether its header said it completes a version, and what its last chunk did. */
  const feed = (r: WeightsReceiver, e: EncodedWeights, held: number, evaluation = false) => {
    const [header, ...chunks] = weightsMessages(e, evaluation);
    const completes = r.header(header.weights!, held);
    const done = chunks.map((c) => r.chunk(c.chunk!.offset, c.chunk!.data)).at(-1);
    return { completes, done };
  };
  const everyValue = (fill: number) => readWeights(model).every((t) => t.every((x) => x === fill));

  it('writes a version in parts once its last part is in, and says which message completes it', () => {
    const r = new WeightsReceiver(model, 2 ** 30);
    assert.deepEqual(feed(r, message(1, 1), -1), { completes: true, done: { kind: 'training', version: 1 } });
    assert.ok(everyValue(1));
    assert.deepEqual(feed(r, message(2, 2, [4, 5]), 1), { completes: false, done: undefined });
    assert.deepEqual(feed(r, message(2, 2, [2, 3]), 1), { completes: false, done: undefined });
    assert.ok(everyValue(1), 'parts wait for the rest');
    assert.deepEqual(feed(r, message(2, 2, [0, 1]), 1), { completes: true, done: { kind: 'training', version: 2 } });
    assert.ok(everyValue(2));
  });

  it('drops an unfinished version when a newer one comes (the coordinator moved on)', () => {
    const r = new WeightsReceiver(model, 2 ** 30);
    feed(r, message(3, 3, [4, 5]), 2);
    assert.deepEqual(feed(r, message(7, 7), 2).done, { kind: 'training', version: 7 });
    assert.ok(everyValue(7));
  });

  it('keeps evaluation weights beside the model, without touching it', () => {
    const r = new WeightsReceiver(model, 2 ** 30);
    feed(r, message(1, 1), -1);
    const { done } = feed(r, message(1, 5), 1, true);
    assert.equal(done?.kind, 'evaluation');
    assert.ok(everyValue(1));
  });

  const refusals: [string, (r: WeightsReceiver) => void, RegExp][] = [
    ['a tensor the model does not have', (r) => feed(r, { ...message(2, 2, [0, 1]), tensors: [0, 9] }, 1), /weights name tensor 9, the model has 6/],
    ['tensor indices out of order', (r) => feed(r, message(2, 2, [3, 1]), 1), /not strictly increasing/],
    ['a tensor twice in one version', (r) => [[4, 5], [3, 5]].forEach((t) => feed(r, message(2, 2, t), 1)), /version 2 sent tensor 5 twice/],
    ['a change to a version this worker does not hold', (r) => feed(r, message(4, 0, undefined, true), 1), /weights change for version 4, but this worker holds 1/],
    ['evaluation weights in parts', (r) => feed(r, message(2, 2, [0, 1]), 1, true), /evaluation weights in parts/],
  ];
  for (const [what, send, reason] of refusals) {
    it(`refuses ${what}, with the reason`, () => assert.throws(() => send(new WeightsReceiver(model, 2 ** 30)), reason));
  }
});
