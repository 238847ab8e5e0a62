/**
 * The step scheduler turns any set of workers, fast or slow, failing or not,
 * into exactly the gradient sums of the whole global batch, and into the
 * validation loss and accuracy one process would measure.
 */
import { strict as assert } from 'node:assert';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BroadcastMode, BroadcastPolicy, fixedBroadcast } from '../../../coordinator/broadcast-policy';
import { Membership } from '../../../coordinator/membership';
import { EarlyWeights, StepScheduler } from '../../../coordinator/step-scheduler';
import { loadMnistSample } from '../../../shared/data/mnist-sample';
import { getLogger, Logger } from '../../../shared/logging';
import { buildPreset } from '../../../shared/models/presets';
import { evaluate } from '../../../shared/training/evaluation';
import { GradientComputer, GradientSums } from '../../../shared/training/gradient-step';
import { readWeights } from '../../../shared/training/weights';
import { maxAbs, maxAbsDiff, useBackend } from '../../helpers/backends';
import { Fault, joinWorkers } from '../../helpers/in-memory-cluster';
import { levelledLogger, lineLogger } from '../../helpers/line-log';

const data = loadMnistSample();
const indices = Uint32Array.from({ length: 64 }, (_, i) => i * 11);
const work = { step: 0, epoch: 0, indices, seed: 5 };

interface ClusterOptions {
  minDeadlineMs?: number;
  /** The first steps' deadline; minDeadlineMs when absent. */
  firstDeadlineMs?: number;
  microBatch?: number;
  equalShards?: boolean;
  earlyWeights?: EarlyWeights;
  broadcast?: BroadcastPolicy;
  minTurnTimeoutMs?: number;
  log?: Logger;
}

function cluster(workers: number, { minDeadlineMs = 60_000, firstDeadlineMs = minDeadlineMs, microBatch = 0, equalShards = false, earlyWeights, broadcast, minTurnTimeoutMs, log = getLogger({ component: 'test' }) }: ClusterOptions = {}) {
  const model = buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 9 });
  const membership = new Membership(16);
  const sizes = model.trainableWeights.map((w) => w.read().size);
  const options = { minWorkers: 1, deadlines: { factor: 5, minMs: minDeadlineMs, firstMs: firstDeadlineMs }, microBatch, equalShards, broadcast, minTurnTimeoutMs, gradientSizes: sizes };
  const scheduler = new StepScheduler(membership, options, log, undefined, earlyWeights);
  const replica = () => buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 1 });
  const nodes = joinWorkers(workers, membership, scheduler, model, replica, data, microBatch);
  const reference = new GradientComputer(model, data.train, data.shape, { numClasses: 10, microBatch }).compute({ indices, seed: 5 });
  /** More workers join, with this fault, and the scheduler is told. */
  const join = (count: number, fault: Fault) => {
    const comers = joinWorkers(count, membership, scheduler, model, replica, data, microBatch);
    for (const w of comers) w.fault = fault;
    scheduler.notifyJoined();
    return comers;
  };
  return { model, membership, scheduler, nodes, reference, join };
}

/** Resolves once `condition` holds, polling; rejects if it has not within `ms`. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function assertSameSums(got: GradientSums, want: GradientSums): void {
  assert.equal(got.count, want.count);
  assert.equal(got.correct, want.correct);
  assert.ok(Math.abs(got.lossSum - want.lossSum) < 1e-4);
  got.grads.forEach((g, i) => assert.ok(maxAbsDiff(g, want.grads[i]) <= 1e-5 * Math.max(1, maxAbs(want.grads[i])), `gradient ${i}`));
}

describe('the step scheduler', () => {
  before(() => useBackend('wasm'));

  it('sizes shards by measured throughput and still returns the whole batch’s sums', async () => {
    const c = cluster(3);
    c.membership.admitPending();
    [1, 3, 7].forEach((rate, i) => (c.nodes[i].member.samplesPerSecond = rate));
    const sums = await c.scheduler.computeBatch(work);
    assertSameSums(sums, c.reference);
    assert.deepEqual(c.nodes.map((n) => n.computed.map((s) => s.size)), [[6], [17], [41]]);
  });

  it('leaves out a worker whose shards take longer than the others need for the whole batch, with the same sums', async () => {
    const c = cluster(2);
    c.membership.admitPending();
    Object.assign(c.nodes[0].member, { samplesPerSecond: 1200, roundTripMs: 50, overheadMs: 3, shardsDone: 10 });
    Object.assign(c.nodes[1].member, { samplesPerSecond: 120, roundTripMs: 90, overheadMs: 20, shardsDone: 10 });
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    assert.deepEqual(c.nodes.map((n) => n.computed.map((s) => s.size)), [[64], []]);
    // What `gradfleet status` and the dashboard show as its state.
    assert.deepEqual(c.nodes.map((n) => c.scheduler.sittingOut(n.member.id)), [false, true]);
  });

  it('says at info level once a minute that a worker still slow after its rests sits out again, the repeats at debug level', async () => {
    const said = levelledLogger();
    const c = cluster(2, { log: said.log });
    c.membership.admitPending();
    for (const step of [0, 20, 40]) {
      // Measured afresh (one more shard done) and still slow each time it is back from its rest.
      Object.assign(c.nodes[0].member, { samplesPerSecond: 1200, roundTripMs: 50, overheadMs: 3, shardsDone: 10 + step });
      Object.assign(c.nodes[1].member, { samplesPerSecond: 120, roundTripMs: 90, overheadMs: 20, shardsDone: 10 + step });
      assertSameSums(await c.scheduler.computeBatch({ ...work, step }), c.reference);
      assert.ok(c.scheduler.sittingOut(c.nodes[1].member.id), `step ${step}`);
    }
    const sitsOut = (lines: string[]) => lines.filter((l) => /^worker w2 sits out the next 20 steps/.test(l)).length;
    assert.deepEqual([sitsOut(said.info), sitsOut(said.debug)], [1, 2]);
  });

  it('with --shard-sizing equal, cuts equal shards whatever the measured throughput', async () => {
    const c = cluster(3, { equalShards: true });
    c.membership.admitPending();
    [1, 3, 7].forEach((rate, i) => (c.nodes[i].member.samplesPerSecond = rate));
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    assert.deepEqual(c.nodes.map((n) => n.computed.map((s) => s.size)), [[22], [21], [21]]);
  });

  it('gives a silent worker’s shard to another worker once the deadline passes, and drops it', async () => {
    const c = cluster(2, { minDeadlineMs: 200 });
    c.nodes[0].fault = 'silent';
    const sums = await c.scheduler.computeBatch(work);
    assertSameSums(sums, c.reference);
    assert.equal(c.membership.get(c.nodes[0].member.id), undefined);
    assert.equal(c.nodes[0].closedWith, 'missed shard deadline');
    assert.equal(c.nodes[1].computed.length, 2);
  });

  it('doubles the deadline at each miss while no shard has finished, so workers slower than the first guess get through', async () => {
    const warnings = lineLogger('warn');
    const c = cluster(1, { minDeadlineMs: 50, log: warnings.log });
    const said = (pattern: RegExp) => until(() => warnings.lines.some((l) => pattern.test(l))).catch(() => assert.fail(`never said ${pattern}; said:\n${warnings.lines.join('\n')}`));
    c.nodes[0].fault = 'silent';
    const pending = c.scheduler.computeBatch(work);
    await said(/^worker w1 missed the 50 ms deadline for shard 0 of step 0; dropping it \(no shard has finished yet: the next deadline is 100 ms\)$/);
    c.join(1, 'silent');
    await said(/^worker w2 missed the 100 ms deadline for shard 0 of step 0; dropping it \(no shard has finished yet: the next deadline is 200 ms\)$/);
    c.join(1, 'none');
    assertSameSums(await pending, c.reference);
  });

  it('gives shards the first deadline until one has finished, then the measured one, at least the minimum', async () => {
    const warnings = lineLogger('warn');
    const c = cluster(1, { minDeadlineMs: 100, firstDeadlineMs: 60_000, log: warnings.log });
    c.nodes[0].fault = 'silent';
    const step0 = c.scheduler.computeBatch(work);
    await until(() => c.nodes[0].events.some((e) => e.includes('shard')));
    assert.equal(c.scheduler.silenceAllowanceMs(c.nodes[0].member.id), 60_000, 'nothing measured yet: the first deadline');
    c.membership.leave(c.nodes[0].member.id, 'test');
    c.join(1, 'none');
    await step0;
    const [silent] = c.join(1, 'silent');
    assertSameSums(await c.scheduler.computeBatch({ ...work, step: 1 }), c.reference);
    const missed = warnings.lines.filter((l) => l.startsWith(`worker ${silent.member.id} missed`));
    assert.deepEqual(missed, [`worker ${silent.member.id} missed the 100 ms deadline for shard 1 of step 1; dropping it`]);
  });

  it('spreads shards waiting for workers over the workers that come, instead of piling them on the first', async () => {
    const c = cluster(2);
    for (const n of c.nodes) n.fault = 'silent';
    const pending = c.scheduler.computeBatch(work);
    await until(() => c.nodes.every((n) => n.events.length > 0));
    for (const n of c.nodes) c.membership.leave(n.member.id, 'test');
    const comers = c.join(2, 'silent');
    const assigned = () => comers.map((n) => n.events.filter((e) => / shard /.test(e)).length);
    await until(() => assigned().reduce((a, b) => a + b) === 2);
    assert.deepEqual(assigned(), [1, 1]);
    c.scheduler.stop('test over');
    await assert.rejects(pending);
  });

  it('rejects a gradient with NaN and recomputes the shard elsewhere', async () => {
    const c = cluster(2);
    c.nodes[1].fault = 'nan';
    const sums = await c.scheduler.computeBatch(work);
    assertSameSums(sums, c.reference);
    assert.match(c.nodes[1].rejections[0], /NaN/);
  });

  it('keeps the run going when two of three workers compute NaN: their shards go to the sound one', async () => {
    const c = cluster(3);
    c.nodes[1].fault = 'nan';
    c.nodes[2].fault = 'nan';
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
  });

  it('stops the run as diverged when every worker computes NaN, instead of passing the shard round for ever', async () => {
    const c = cluster(2);
    for (const n of c.nodes) n.fault = 'nan';
    await assert.rejects(c.scheduler.computeBatch(work), /^DivergedError: training diverged at step 0: shard \d's gradient held NaN 3 times \(from w\d, w\d, w\d\); a lower --lr may help$/);
  });

  it('computes nothing more of a step that failed: its deadlines drop no worker, and no shard goes round again', async () => {
    const c = cluster(2, { minDeadlineMs: 500 });
    for (const n of c.nodes) n.fault = 'nan';
    await assert.rejects(c.scheduler.computeBatch(work), /training diverged/);
    const handedIn = () => c.nodes.map((n) => n.rejections.length + n.computed.length);
    // What was being computed when the step failed may still come in; then nothing more.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = handedIn();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(handedIn(), before);
    assert.deepEqual(c.nodes.map((n) => n.closedWith), [undefined, undefined]);
  });

  it('gives a lone worker that computes NaN three tries before calling the run diverged', async () => {
    const c = cluster(1);
    c.nodes[0].fault = 'nan';
    await assert.rejects(c.scheduler.computeBatch(work), /held NaN 3 times \(from w1, w1, w1\)/);
    assert.equal(c.nodes[0].rejections.length, 3);
  });

  describe('gradients in parts (a streamed backward pass, last layers first)', () => {
    const parts = [[4, 5], [2, 3], [0, 1]];

    function early(c: ReturnType<typeof cluster>) {
      const applied: { tensors: number[]; sums: Float32Array[] }[] = [];
      const applyEarly = (tensors: number[], sums: ArrayLike<number>[]) => applied.push({ tensors, sums: sums.map((g) => Float32Array.from(g)) });
      return { applied, work: { ...work, applyEarly } };
    }

    it('hands each tensor to the update once every shard has sent it, and the last ones with the whole batch’s sums', async () => {
      const told: number[][] = [];
      const c = cluster(2, { earlyWeights: { early: (tensors) => told.push(tensors) } });
      for (const n of c.nodes) n.parts = parts;
      const { applied, work: w } = early(c);
      assertSameSums(await c.scheduler.computeBatch(w), c.reference);
      // Worker 1 delivers all its parts first; each of worker 2's completes two tensors, the last one the step.
      assert.deepEqual(applied.map((a) => a.tensors), [[4, 5], [2, 3]]);
      for (const a of applied) a.tensors.forEach((t, j) => assert.ok(maxAbsDiff(a.sums[j], c.reference.grads[t]) <= 1e-5 * Math.max(1, maxAbs(c.reference.grads[t])), `tensor ${t}`));
      // Each early update becomes a part of the next weights, offered to every worker at once.
      assert.deepEqual(told, [[4, 5], [2, 3]]);
      assert.deepEqual(c.nodes.map((n) => n.earlyWeightsOffered), [2, 2]);
    });

    it('recomputes a shard whose last part is broken elsewhere, and takes from the new attempt only what is missing', async () => {
      const c = cluster(2);
      for (const n of c.nodes) n.parts = parts;
      c.nodes[1].fault = 'nan-in-last-part';
      const { applied, work: w } = early(c);
      assertSameSums(await c.scheduler.computeBatch(w), c.reference);
      assert.match(c.nodes[1].rejections[0], /NaN/);
      assert.deepEqual(applied.map((a) => a.tensors), [[4, 5], [2, 3]]);
      // Worker 1 recomputed shard 1: its repeated parts were taken as done, not refused.
      assert.equal(c.nodes[0].rejections.length, 0);
      assert.deepEqual(c.nodes[0].computed.map((s) => s.shardId), [0, 0, 0, 1, 1, 1]);
    });
  });

  it('rejects gradients for a stale step or over the wrong number of samples, with the reason', async () => {
    const c = cluster(3, { minDeadlineMs: 300 });
    c.nodes[0].fault = 'stale-step';
    c.nodes[1].fault = 'wrong-count';
    const sums = await c.scheduler.computeBatch({ ...work, step: 7 });
    assertSameSums(sums, c.reference);
    assert.match(c.nodes[0].rejections[0], /stale step 6 \(current 7\)/);
    assert.match(c.nodes[1].rejections[0], /gradient over \d+ samples, shard has \d+/);
  });

  it('reassigns the shards of a worker that leaves in the middle of a step', async () => {
    const c = cluster(3);
    c.nodes[2].fault = 'silent';
    const pending = c.scheduler.computeBatch(work);
    setTimeout(() => c.membership.leave(c.nodes[2].member.id, 'disconnected'), 50);
    assertSameSums(await pending, c.reference);
    assert.equal(c.scheduler.lastWorkerCount, 3);
  });

  it('pauses while fewer than min-workers are connected, and goes on when they join', async () => {
    const c = cluster(0);
    const scheduler = new StepScheduler(c.membership, { minWorkers: 2, deadlines: { factor: 5, minMs: 60_000, firstMs: 60_000 }, microBatch: 0, gradientSizes: c.reference.grads.map((g) => g.length) }, getLogger({ component: 'test' }));
    let done = false;
    const pending = scheduler.computeBatch(work).then((s) => ((done = true), s));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(done, false);
    const replica = () => buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 1 });
    joinWorkers(2, c.membership, scheduler, c.model, replica, data);
    scheduler.notifyJoined();
    assertSameSums(await pending, c.reference);
  });

  it('with micro-batches, returns bit-identical sums however the batch is split, failures included', async () => {
    const splits: number[][] = [[1], [1, 1], [1, 3, 7], [5, 1]];
    for (const rates of splits) {
      const c = cluster(rates.length, { microBatch: 16 });
      c.membership.admitPending();
      rates.forEach((rate, i) => (c.nodes[i].member.samplesPerSecond = rate));
      if (rates.length === 2) c.nodes[1].fault = 'nan';
      const sums = await c.scheduler.computeBatch(work);
      assert.ok(sums.grads.every((g) => g instanceof Float64Array));
      for (const n of c.nodes) for (const s of n.computed) assert.equal(s.size % 16, 0, `shard of ${s.size} samples`);
      sums.grads.forEach((g, i) => assert.deepEqual(g, c.reference.grads[i], `gradient ${i} with throughputs ${rates}`));
      assert.equal(sums.lossSum, c.reference.lossSum);
    }
  });

  it('adds up shards in shard order whatever order they arrive in: the same float32 bits as when they come in order', async () => {
    const inOrder = await cluster(3).scheduler.computeBatch(work);
    const c = cluster(3, { minDeadlineMs: 200 });
    const events: string[] = [];
    for (const n of c.nodes) n.events = events;
    c.nodes[0].fault = 'silent';
    const sums = await c.scheduler.computeBatch(work);
    // Shard 0 missed its deadline and was recomputed (the same samples, seed and weights) after shards 1 and 2 were in.
    assert.deepEqual(events.filter((e) => e.includes('shard')), ['w1 shard 0', 'w2 shard 1', 'w3 shard 2', 'w2 shard 0']);
    sums.grads.forEach((g, i) => assert.deepEqual(g, inOrder.grads[i], `gradient ${i}`));
  });
});

describe('a step with --broadcast staggered (each worker’s weights once the one before holds its own)', () => {
  before(() => useBackend('wasm'));

  /**
   * The scheduler's warnings are kept, to see whether a turn timed out.
   * Tests that follow the order of turns raise the shortest turn: on a busy
   * host a 20 ms timer can fire before an in-memory worker's word, which
   * comes a turn of the event loop after another worker's whole pass.
   */
  function staggered(workers: number, { broadcast = fixedBroadcast('staggered'), minTurnTimeoutMs }: { broadcast?: BroadcastPolicy; minTurnTimeoutMs?: number } = {}) {
    const warnings = lineLogger('warn');
    const c = cluster(workers, { broadcast, minTurnTimeoutMs, log: warnings.log });
    const events: string[] = [];
    for (const n of c.nodes) n.events = events;
    return { ...c, events, warnings: warnings.lines };
  }

  it('sends the next worker its weights and shard when the one before says it holds the weights, with the same sums', async () => {
    const c = staggered(3, { minTurnTimeoutMs: 60_000 });
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    assert.deepEqual(c.events, ['w1 weights 0', 'w1 shard 0', 'w1 holds 0', 'w2 weights 0', 'w2 shard 1', 'w2 holds 0', 'w3 weights 0', 'w3 shard 2', 'w3 holds 0']);
    assert.deepEqual(c.warnings, []);
  });

  it('hands the turn on after a timeout when a worker never says it holds the weights', async () => {
    const c = staggered(2);
    c.nodes[0].fault = 'never-confirms-weights';
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    assert.deepEqual(c.events, ['w1 weights 0', 'w1 shard 0', 'w2 weights 0', 'w2 shard 1', 'w2 holds 0']);
  });

  it('warns once per worker that lets turns pass without a word, however many it lets pass', async () => {
    const c = staggered(3);
    c.nodes[0].fault = 'never-confirms-weights';
    for (const version of [0, 1, 2, 3, 4]) {
      c.scheduler.setWeightsVersion(version);
      assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    }
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], /worker w1 has not said it holds its weights in 3 turns in a row; the next worker gets its weights after \d+ ms at most/);
    assert.equal(c.events.filter((e) => e === 'w2 shard 1').length, 5);
  });

  it('asks the broadcast policy (--broadcast auto) for each training step’s mode, tells it how long the step took, and validates with weights sent at once', async () => {
    const told: string[] = [];
    const modes: BroadcastMode[] = ['staggered', 'together'];
    let asked = 0;
    const policy: BroadcastPolicy = {
      modeFor: (workers) => (told.push(`${workers} workers`), modes[asked++]),
      stepTook: (mode, workers, ms) => told.push(`${mode} step of ${workers} workers took ${ms >= 0 ? 'some' : 'negative'} ms`),
    };
    const c = staggered(2, { broadcast: policy, minTurnTimeoutMs: 60_000 });
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    assert.deepEqual(c.events.splice(0), ['w1 weights 0', 'w1 shard 0', 'w1 holds 0', 'w2 weights 0', 'w2 shard 1', 'w2 holds 0']);
    c.scheduler.setWeightsVersion(1);
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
    const shardsOut = c.events.indexOf('w1 shard 0');
    assert.deepEqual(c.events.slice(0, shardsOut).sort(), ['w1 weights 1', 'w2 weights 1'], c.events.join(', '));
    await c.scheduler.validate({ step: 2, epoch: 0, indices: indices.subarray(0, 10), evaluationWeights: false });
    assert.deepEqual(told, ['2 workers', 'staggered step of 2 workers took some ms', '2 workers', 'together step of 2 workers took some ms']);
  });

  it('hands the turn on when the worker it waits for leaves, and its shard goes to another worker', async () => {
    const c = staggered(3, { minTurnTimeoutMs: 60_000 });
    c.nodes[0].fault = 'silent';
    const pending = c.scheduler.computeBatch(work);
    setTimeout(() => c.membership.leave(c.nodes[0].member.id, 'disconnected'), 50);
    assertSameSums(await pending, c.reference);
    assert.deepEqual(c.events, ['w1 weights 0', 'w1 shard 0', 'w2 weights 0', 'w2 shard 0', 'w2 shard 1', 'w2 holds 0', 'w3 weights 0', 'w3 shard 2', 'w3 holds 0']);
    // Leaving ended the wait: no turn timed out.
    assert.deepEqual(c.warnings, ['worker w1 (memory:w1) left: disconnected']);
  });
});

describe('validation on the workers', () => {
  before(() => useBackend('wasm'));
  const validation = Uint32Array.from({ length: 150 }, (_, i) => 7000 + i);
  const onCoordinator = (model: LayersModel) => evaluate({ model, set: data.train, shape: data.shape, numClasses: 10, indices: validation });

  it('splits the indices across the workers and adds up to the one-process evaluation', async () => {
    const c = cluster(3);
    c.membership.admitPending();
    [1, 2, 3].forEach((rate, i) => (c.nodes[i].member.samplesPerSecond = rate));
    const got = await c.scheduler.validate({ step: 4, epoch: 0, indices: validation, evaluationWeights: false });
    const want = onCoordinator(c.model);
    assert.equal(got.accuracy, want.accuracy);
    assert.ok(Math.abs(got.loss - want.loss) < 1e-6, `${got.loss} vs ${want.loss}`);
    assert.deepEqual(c.nodes.map((n) => n.computed.map((s) => [s.task, s.size])), [[['validate', 25]], [['validate', 50]], [['validate', 75]]]);
    // Forward-only shards say nothing about training speed.
    assert.deepEqual(c.nodes.map((n) => n.member.samplesPerSecond), [1, 2, 3]);
  });

  it('validates with the evaluation weights when asked, and workers train on their own weights afterwards', async () => {
    const c = cluster(2);
    const averaged = buildPreset('mlp', { shape: data.shape, numClasses: 10, seed: 123 });
    for (const n of c.nodes) n.evaluationSource = () => readWeights(averaged);
    const got = await c.scheduler.validate({ step: 0, epoch: 0, indices: validation, evaluationWeights: true });
    const want = onCoordinator(averaged);
    assert.equal(got.accuracy, want.accuracy);
    assert.ok(Math.abs(got.loss - want.loss) < 1e-6);
    assert.notEqual(want.loss, onCoordinator(c.model).loss);
    assertSameSums(await c.scheduler.computeBatch(work), c.reference);
  });

  it('revalidates elsewhere the shard of a worker that goes silent or answers NaN', async () => {
    const c = cluster(3, { minDeadlineMs: 200 });
    c.nodes[0].fault = 'silent';
    c.nodes[1].fault = 'nan';
    const got = await c.scheduler.validate({ step: 0, epoch: 0, indices: validation, evaluationWeights: false });
    const want = onCoordinator(c.model);
    assert.equal(got.accuracy, want.accuracy);
    assert.ok(Math.abs(got.loss - want.loss) < 1e-6);
    assert.equal(c.membership.get(c.nodes[0].member.id), undefined);
    assert.match(c.nodes[1].rejections[0], /non-finite loss/);
    assert.equal(c.nodes[2].computed.reduce((n, s) => n + s.size, 0), 150);
  });

  it('refuses a validation result for a training step and a gradient for a validation', async () => {
    const c = cluster(1);
    c.membership.admitPending();
    const id = c.nodes[0].member.id;
    const wrong = (task: 'train' | 'validate', count: number) => () =>
      c.scheduler.deliver({ task, workerId: id, step: 0, weightsVersion: 0, shardId: 0, computeMs: 1, sums: { grads: [], count, lossSum: 1, correct: 1 } });
    const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));
    const training = c.scheduler.computeBatch(work);
    await nextTick();
    assert.match(wrong('validate', 64)() ?? '', /a validation result for step 0, which asked for gradients/);
    assertSameSums(await training, c.reference);
    const validating = c.scheduler.validate({ step: 0, epoch: 0, indices: validation, evaluationWeights: false });
    await nextTick();
    assert.match(wrong('train', 150)() ?? '', /a gradient for step 0, which asked for validation/);
    assert.equal((await validating).accuracy, onCoordinator(c.model).accuracy);
  });
});
