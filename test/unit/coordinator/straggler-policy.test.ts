import { strict as assert } from 'node:assert';
import { SHARDS_BEFORE_JUDGING, ShardCost, StragglerPolicy } from '../../../coordinator/straggler-policy';

const worker = (id: string, samplesPerSecond: number, roundTripMs: number, overheadMs = 3, shardsDone = 10): ShardCost => ({ id, samplesPerSecond, roundTripMs, overheadMs, shardsDone });
const ids = (ws: ShardCost[]) => ws.map((w) => w.id);

describe('the straggler policy', () => {
  it('leaves out a worker whose shards take longer than the others would need for the whole batch', () => {
    // As in bench:heterogeneous: the throttled worker computed 6 samples in ~50 ms, and its transfers are slow too.
    const { chosen, leftOut } = new StragglerPolicy().choose(10, 64, [worker('fast', 1200, 50), worker('slow', 120, 70, 20)]);
    assert.deepEqual(ids(chosen), ['fast']);
    assert.equal(leftOut?.worker.id, 'slow');
    assert.ok(Math.abs(leftOut!.othersMs - ((1000 * 64) / 1200 + 3)) < 1e-9);
  });

  it('keeps a slower worker that still shortens the step', () => {
    // Alone, the fast worker needs 64/1000 s + 3 ms = 67 ms; the slow one's shards take 40 ms.
    const { chosen, leftOut } = new StragglerPolicy().choose(10, 64, [worker('fast', 1000, 38), worker('slow', 400, 40)]);
    assert.deepEqual(ids(chosen), ['fast', 'slow']);
    assert.equal(leftOut, undefined);
  });

  it('keeps a worker that earns a fair share, however long its round trips (a busy host, not a straggler)', () => {
    // The others would need 67 ms for the whole batch and its shards take 100 ms, but it computes 47% of the samples.
    const { chosen } = new StragglerPolicy().choose(10, 64, [worker('a', 1000, 40), worker('b', 900, 100)]);
    assert.deepEqual(ids(chosen), ['a', 'b']);
  });

  it('gives a left-out worker a shard after its rest, and leaves it out again only once that shard is measured', () => {
    const policy = new StragglerPolicy(20);
    const fast = worker('fast', 1200, 50);
    assert.deepEqual(ids(policy.choose(100, 64, [fast, worker('slow', 120, 90, 3, 10)]).chosen), ['fast']);
    for (const step of [101, 110, 119]) assert.deepEqual(ids(policy.choose(step, 64, [fast, worker('slow', 120, 90, 3, 10)]).chosen), ['fast'], `step ${step}`);
    // Back at step 120 with the same (old) figures: it gets a shard, so it is measured again.
    assert.deepEqual(ids(policy.choose(120, 64, [fast, worker('slow', 120, 90, 3, 10)]).chosen), ['fast', 'slow']);
    // Measured, and still slow: out again.
    assert.equal(policy.choose(121, 64, [fast, worker('slow', 120, 90, 3, 11)]).leftOut?.worker.id, 'slow');
  });

  it('takes a recovered worker back for good', () => {
    const policy = new StragglerPolicy(20);
    const fast = worker('fast', 1200, 50);
    policy.choose(100, 64, [fast, worker('slow', 120, 90, 3, 10)]);
    const recovered = worker('slow', 1100, 30, 3, 11);
    for (const step of [120, 121, 150]) assert.deepEqual(ids(policy.choose(step, 64, [fast, recovered]).chosen), ['fast', 'slow'], `step ${step}`);
  });

  it(`judges nobody until every worker has finished ${SHARDS_BEFORE_JUDGING} shards (the first ones compile kernels)`, () => {
    const newcomer = worker('new', 50, 2000, 3, SHARDS_BEFORE_JUDGING - 1);
    assert.deepEqual(ids(new StragglerPolicy().choose(0, 64, [worker('fast', 1200, 50), newcomer]).chosen), ['fast', 'new']);
  });

  it('never leaves out the only worker, and leaves out one worker per step at most', () => {
    const policy = new StragglerPolicy();
    assert.deepEqual(ids(policy.choose(0, 64, [worker('only', 10, 1000)]).chosen), ['only']);
    const three = [worker('a', 1000, 40), worker('b', 50, 400), worker('c', 60, 300)];
    assert.deepEqual(ids(policy.choose(1, 64, three).chosen), ['a', 'c']);
    assert.deepEqual(ids(policy.choose(2, 64, three).chosen), ['a']);
  });

  it('forgets a worker that left: one that joins under its id starts afresh', () => {
    const policy = new StragglerPolicy();
    const fast = worker('fast', 1200, 50);
    policy.choose(0, 64, [fast, worker('slow', 120, 90)]);
    policy.choose(1, 64, [fast]);
    assert.deepEqual(ids(policy.choose(2, 64, [fast, worker('slow', 1100, 40)]).chosen), ['fast', 'slow']);
  });
});
