/**
 * A shard's deadline follows the run's measured speed, never drops below the
 * floor, and starts from a generous guess that doubles at each miss; a
 * computing worker may stay silent for twice what its shards should take.
 */
import { strict as assert } from 'node:assert';
import { ShardDeadlines } from '../../../coordinator/shard-deadlines';

const options = { factor: 5, minMs: 100, firstMs: 60_000 };

describe('shard deadlines', () => {
  it('are the first deadline until a shard has finished, whatever the shard size', () => {
    const d = new ShardDeadlines(options);
    assert.equal(d.forSamples(1), 60_000);
    assert.equal(d.forSamples(10_000), 60_000);
  });

  it('then scale with the median time per sample, by the factor', () => {
    const d = new ShardDeadlines(options);
    d.record(640, 64); // 10 ms a sample
    assert.equal(d.forSamples(64), 5 * 10 * 64);
    assert.equal(d.forSamples(128), 5 * 10 * 128);
  });

  it('are never below the floor', () => {
    const d = new ShardDeadlines(options);
    d.record(1, 64);
    assert.equal(d.forSamples(64), 100);
  });

  it('follow the median, so one slow shard does not stretch them', () => {
    const d = new ShardDeadlines(options);
    for (const ms of [640, 640, 64_000]) d.record(ms, 64);
    assert.equal(d.forSamples(64), 5 * 640);
  });

  it('forget shards older than the last 50, so a run that speeds up is held to its new speed', () => {
    const d = new ShardDeadlines(options);
    for (let i = 0; i < 50; i++) d.record(6400, 64);
    for (let i = 0; i < 50; i++) d.record(640, 64);
    assert.equal(d.forSamples(64), 5 * 640);
  });

  it('double the guess at each miss while nothing is measured, and stop guessing once something is', () => {
    const d = new ShardDeadlines(options);
    assert.equal(d.missed(d.forSamples(64)), 120_000);
    assert.equal(d.forSamples(64), 120_000);
    assert.equal(d.missed(d.forSamples(64)), 240_000);
    d.record(640, 64);
    assert.equal(d.missed(d.forSamples(64)), undefined);
    assert.equal(d.forSamples(64), 5 * 640);
  });

  it('never start below the floor, even with a smaller first deadline', () => {
    assert.equal(new ShardDeadlines({ ...options, firstMs: 10 }).forSamples(64), 100);
  });

  it('let a computing worker be silent for twice what its shards take at its speed; before it is measured, for their deadline', () => {
    const d = new ShardDeadlines(options);
    assert.equal(d.silenceAllowanceMs(128, 64), 4000);
    assert.equal(d.silenceAllowanceMs(128, 0), 60_000);
    d.record(640, 64);
    assert.equal(d.silenceAllowanceMs(128, 0), 5 * 10 * 128);
  });

  it('give a worker holding no shard no extra silence', () => {
    assert.equal(new ShardDeadlines(options).silenceAllowanceMs(0, 64), 0);
    assert.equal(new ShardDeadlines(options).silenceAllowanceMs(0, 0), 0);
  });
});
