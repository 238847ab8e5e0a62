/**
 * What the dashboard draws, kept as the run goes: step and epoch metrics,
 * the last steps' time breakdown, and the checkpoints written. Bounded: step
 * points are thinned (every other one dropped) whenever they pass a cap, so a
 * long run keeps its whole shape in constant memory.
 */
import type { EpochLogs, StepLogs, TrainingCallback } from '../shared/training/callbacks';
import { StepBreakdown, stepPhases } from './step-phases';
import type { StepTimings } from './step-scheduler';

export interface StepPoint {
  step: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
}

export class RunHistory implements TrainingCallback {
  readonly steps: StepPoint[] = [];
  readonly epochs: EpochLogs[] = [];
  readonly checkpoints: { step: number; seconds: number; at: number }[] = [];
  /** Mean over the last steps (exponentially weighted, 0.9). */
  breakdown: StepBreakdown = { computeMs: 0, communicationMs: 0, updateMs: 0 };
  private stride = 1;
  private readonly phases: (stepSeconds: number) => StepBreakdown;
  private lastStep = 0;

  constructor(
    timings: StepTimings,
    private readonly maxPoints = 2000,
  ) {
    this.phases = stepPhases(timings);
  }

  onStepEnd(s: StepLogs): void {
    this.lastStep = s.step;
    const now = this.phases(s.seconds);
    const b = this.breakdown;
    this.breakdown = b.computeMs === 0 && b.updateMs === 0 ? now : {
      computeMs: 0.9 * b.computeMs + 0.1 * now.computeMs,
      communicationMs: 0.9 * b.communicationMs + 0.1 * now.communicationMs,
      updateMs: 0.9 * b.updateMs + 0.1 * now.updateMs,
    };
    if (s.step % this.stride !== 0) return;
    this.steps.push({ step: s.step, loss: s.loss, accuracy: s.accuracy, samplesPerSecond: s.seconds > 0 ? s.samples / s.seconds : 0 });
    if (this.steps.length > this.maxPoints) {
      this.stride *= 2;
      const kept = this.steps.filter((p) => p.step % this.stride === 0);
      this.steps.splice(0, this.steps.length, ...kept);
    }
  }

  onEpochEnd(e: EpochLogs): void {
    this.epochs.push({ ...e });
  }

  checkpointWritten(seconds: number): void {
    this.checkpoints.push({ step: this.lastStep, seconds, at: Date.now() });
  }
}
