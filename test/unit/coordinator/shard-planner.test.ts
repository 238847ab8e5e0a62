import { strict as assert } from 'node:assert';
import { planShards } from '../../../coordinator/shard-planner';

describe('shard planning', () => {
  it('covers the batch with contiguous shards in worker order', () => {
    const shards = planShards(64, [1, 1, 1]);
    assert.deepEqual(shards, [
      { start: 0, end: 22 },
      { start: 22, end: 43 },
      { start: 43, end: 64 },
    ]);
  });

  it('sizes shards in proportion to throughput', () => {
    assert.deepEqual(planShards(100, [1, 3]).map((s) => s.end - s.start), [25, 75]);
  });

  it('treats unmeasured workers (0) as average ones', () => {
    assert.deepEqual(planShards(90, [0, 10, 20]).map((s) => s.end - s.start), [30, 20, 40]);
  });

  it('gives a worker no samples rather than a negative or fractional count', () => {
    const sizes = planShards(3, [1, 1, 1, 1, 1]).map((s) => s.end - s.start);
    assert.equal(sizes.reduce((a, b) => a + b), 3);
    assert.ok(sizes.every((n) => n === 0 || n === 1));
  });

  it('in deterministic runs, starts every shard on a micro-batch boundary and still covers the batch', () => {
    const shards = planShards(70, [1, 2, 1], 16);
    assert.deepEqual(shards, [
      { start: 0, end: 16 },
      { start: 16, end: 64 },
      { start: 64, end: 70 },
    ]);
  });
});
