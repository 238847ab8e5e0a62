/**
 * Where one step's time went, from the scheduler's running totals: compute
 * (the slowest shard's own time), communication (the rest of the wait for
 * gradients: encoding, network, decoding) and update (aggregation, the
 * optimizer, callbacks).
 */
import type { StepTimings } from './step-scheduler';

export interface StepBreakdown {
  computeMs: number;
  communicationMs: number;
  updateMs: number;
}

/** A function to call once per step with the step's wall time; it returns that step's breakdown. */
export function stepPhases(timings: StepTimings): (stepSeconds: number) => StepBreakdown {
  let last = { waitMs: timings.waitMs, computeMs: timings.computeMs };
  return (stepSeconds) => {
    const waitMs = timings.waitMs - last.waitMs;
    const computeMs = timings.computeMs - last.computeMs;
    last = { waitMs: timings.waitMs, computeMs: timings.computeMs };
    return { computeMs, communicationMs: Math.max(0, waitMs - computeMs), updateMs: Math.max(0, stepSeconds * 1000 - waitMs) };
  };
}
