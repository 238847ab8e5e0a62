import { strict as assert } from 'node:assert';
import type { ShardResult } from '../../../coordinator/step-scheduler';
import { PHASE_NAMES, StepTimeline, TRACE_ALL_STEPS, TRACE_EVERY } from '../../../coordinator/step-timeline';
import type { TraceSpan } from '../../../shared/observability/chrome-trace';
import type { ShardTimes } from '../../../shared/observability/clock';
import { WARMUP_STEPS } from '../../../shared/training/training-loop';

const AHEAD = 5000; // the workers' clocks run this far ahead of the coordinator's

function recorder() {
  const spans: TraceSpan[] = [];
  return { spans, span: (s: TraceSpan) => spans.push(s), flush: () => undefined };
}

/** What a worker reports, on its own clock, for work done at these coordinator-clock times. */
function workerTimes(t: ShardTimes): ShardTimes {
  return { weightsReceived: t.weightsReceived + AHEAD, assigned: t.assigned + AHEAD, computeStart: t.computeStart + AHEAD, computeEnd: t.computeEnd + AHEAD, sent: t.sent + AHEAD };
}

const result = (workerId: string, shardId: number, step: number, times: ShardTimes): ShardResult => ({
  task: 'train',
  workerId,
  step,
  weightsVersion: step,
  shardId,
  sums: { grads: [], count: 32, lossSum: 1, correct: 1 },
  computeMs: times.computeEnd - times.computeStart,
  times: workerTimes(times),
});

/**
 * One training step at `t0` (coordinator clock): w1 answers at +31.1 ms, w2, the last, at +36.1 ms.
 * Both links take 1 ms each way, so each exchange pins the clock offset exactly.
 */
function trainStep(timeline: StepTimeline, step: number, t0: number, warmup = step < WARMUP_STEPS): void {
  timeline.stepStarted('train', step, t0);
  timeline.shardSent(0, 'w1', t0 + 0.5);
  timeline.shardSent(1, 'w2', t0 + 1);
  timeline.shardDone(result('w1', 0, step, { weightsReceived: t0 + 1.1, assigned: t0 + 1.5, computeStart: t0 + 1.6, computeEnd: t0 + 30, sent: t0 + 30.1 }), t0 + 31.1);
  timeline.shardDone(result('w2', 1, step, { weightsReceived: t0 + 1.4, assigned: t0 + 2, computeStart: t0 + 2.1, computeEnd: t0 + 35, sent: t0 + 35.1 }), t0 + 36.1);
  timeline.stepGathered(t0 + 36.3);
  timeline.stepApplied({ applyMs: 2, stepMs: 38.5, warmup }, t0 + 38.3);
}

describe('the step timeline', () => {
  it("places each worker's phases on the coordinator's clock", () => {
    const sink = recorder();
    trainStep(new StepTimeline(sink), 0, 100);
    const w2 = sink.spans.filter((s) => s.process === 'worker w2').map((s) => [s.thread, s.name, +s.start.toFixed(6), +s.end.toFixed(6)]);
    assert.deepEqual(w2, [
      ['network', 'weights → worker', 101, 101.4],
      ['work', 'load weights', 101.4, 102.1],
      ['work', 'compute gradient', 102.1, 135],
      ['work', 'encode and send', 135, 135.1],
      ['network', 'gradient → coordinator', 135.1, 136.1],
    ]);
    // How the batch was split, on each compute span.
    assert.deepEqual(sink.spans.filter((s) => s.name === 'compute gradient').map((s) => [s.process, s.args]), [
      ['worker w1', { step: 0, samples: 32 }],
      ['worker w2', { step: 0, samples: 32 }],
    ]);
    const step = sink.spans.find((s) => s.name === 'step 0')!;
    assert.deepEqual([step.process, step.start, step.end], ['coordinator', 100, 138.3]);
    assert.deepEqual(
      sink.spans.filter((s) => s.process === 'coordinator' && s.name !== 'step 0').map((s) => [s.name, +s.start.toFixed(6), +s.end.toFixed(6)]),
      [
        ['send weights and shards', 100, 101],
        ['wait for results', 101, 136.1],
        ['aggregate', 136.1, 136.3],
        ['apply', 136.3, 138.3],
      ],
    );
  });

  it('shows the parts of a gradient sent before the last, and the updates applied while the step waited', () => {
    const sink = recorder();
    const timeline = new StepTimeline(sink);
    trainStep(timeline, 0, 100); // pins the clock offsets
    const t0 = 200;
    timeline.stepStarted('train', 1, t0);
    timeline.shardSent(0, 'w1', t0 + 0.5);
    const part = result('w1', 0, 1, { weightsReceived: t0 + 1.1, assigned: t0 + 1.5, computeStart: t0 + 1.6, computeEnd: t0 + 12, sent: t0 + 12.1 });
    timeline.partDone({ ...part, sums: { ...part.sums, grads: [new Float32Array(4), new Float32Array(2)] } }, t0 + 13);
    timeline.appliedEarly([2, 3], t0 + 13.1, t0 + 14);
    timeline.shardDone(result('w1', 0, 1, { weightsReceived: t0 + 1.1, assigned: t0 + 1.5, computeStart: t0 + 1.6, computeEnd: t0 + 30, sent: t0 + 30.1 }), t0 + 31.1);
    timeline.stepGathered(t0 + 31.2);
    timeline.stepApplied({ applyMs: 0.3, stepMs: 31.5, warmup: true }, t0 + 31.5);
    const at = (name: string) => sink.spans.filter((s) => s.name === name).map((s) => [s.process, s.thread, +s.start.toFixed(6), +s.end.toFixed(6)]);
    assert.deepEqual(at('gradient part (2 tensors) → coordinator'), [['worker w1', 'network', 212.1, 213]]);
    assert.deepEqual(at('update and send 2 tensor(s) early'), [['coordinator', 'early updates', 213.1, 214]]);
  });

  it("splits a step along the shard that came in last, past the warm-up, into phases that add up to the step's time", () => {
    const timeline = new StepTimeline();
    for (let step = 0; step < WARMUP_STEPS + 2; step++) trainStep(timeline, step, 1000 * step);
    assert.equal(timeline.steady.steps, 2);
    const p = timeline.perStep();
    const want = { broadcast: 1, toWorker: 0.4, loadWeights: 0.7, compute: 32.9, encode: 0.1, toCoordinator: 1, aggregate: 0.2, apply: 2, other: 0.2 };
    for (const k of PHASE_NAMES) assert.ok(Math.abs(p[k] - want[k]) < 1e-6, `${k}: ${p[k]}, expected ${want[k]}`);
  });

  it(`traces every step up to ${TRACE_ALL_STEPS}, then one in ${TRACE_EVERY}, and counts them all`, () => {
    const sink = recorder();
    const timeline = new StepTimeline(sink);
    for (const step of [0, TRACE_ALL_STEPS - 1, TRACE_ALL_STEPS, TRACE_ALL_STEPS + 1, TRACE_ALL_STEPS + TRACE_EVERY]) trainStep(timeline, step, 1000 * step, true);
    const traced = sink.spans.filter((s) => s.name.startsWith('step ')).map((s) => s.name);
    assert.deepEqual(traced, ['step 0', `step ${TRACE_ALL_STEPS - 1}`, `step ${TRACE_ALL_STEPS}`, `step ${TRACE_ALL_STEPS + TRACE_EVERY}`]);
    assert.equal(timeline.steady.steps, 0); // all five are the process's warm-up
  });

  it('traces a validation round but leaves it out of the training step figures', () => {
    const sink = recorder();
    const timeline = new StepTimeline(sink);
    timeline.stepStarted('validate', 12, 500);
    timeline.shardSent(0, 'w1', 500.2);
    const times = { weightsReceived: 0, assigned: 501.2, computeStart: 501.3, computeEnd: 520, sent: 520.1 };
    timeline.shardDone({ ...result('w1', 0, 12, times), task: 'validate' }, 521.1);
    timeline.stepGathered(521.2);
    timeline.stepApplied({ applyMs: 2, stepMs: 30, warmup: false }, 523);
    assert.equal(timeline.steady.steps, 0);
    assert.deepEqual(
      sink.spans.filter((s) => s.process === 'worker w1').map((s) => s.name),
      ['shard → worker', 'validate', 'encode and send', 'result → coordinator'],
    );
    assert.ok(sink.spans.some((s) => s.name === 'validate (step 12)' && s.start === 500 && s.end === 521.2));
  });

  it("counts a worker that reports no times by the coordinator's view: its compute, and the rest as transfer", () => {
    const timeline = new StepTimeline();
    for (let step = 0; step <= WARMUP_STEPS; step++) {
      const t0 = 1000 * step;
      timeline.stepStarted('train', step, t0);
      timeline.shardSent(0, 'w1', t0 + 1);
      timeline.shardDone({ ...result('w1', 0, step, { weightsReceived: 0, assigned: 0, computeStart: 0, computeEnd: 0, sent: 0 }), computeMs: 30, times: undefined }, t0 + 34);
      timeline.stepGathered(t0 + 34);
      timeline.stepApplied({ applyMs: 2, stepMs: 36, warmup: step < WARMUP_STEPS }, t0 + 36);
    }
    const p = timeline.perStep();
    assert.deepEqual([p.broadcast, p.compute, p.toCoordinator, p.apply, p.other], [1, 30, 3, 2, 0]);
  });
});
