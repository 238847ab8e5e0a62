/**
 * What the dashboard draws, kept as the run goes: step and epoch metrics,
 * the last steps' time breakdown, and the checkpoints written. Bounded: step
 * points are thinned (every other one dropped) whenever they pass a cap, so a
 * long run keeps its whole shape in constant memory.
 */
import type { EpochLogs, StepLogs, TrainingCallback } from '../shared/training/callbacks';
import { PHASE_NAMES, StepPhases, zeroPhases } from './step-timeline';

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
  /** The step timeline's phases, averaged over the last steps (exponentially weighted, 0.9). */
  breakdown: StepPhases = zeroPhases();
  private stride = 1;
  private lastStep = 0;
  private averaged = 0;

  constructor(
    private readonly phases: () => StepPhases | undefined,
    private readonly maxPoints = 2000,
  ) {}

  onStepEnd(s: StepLogs): void {
    this.lastStep = s.step;
    const now = this.phases();
    if (now !== undefined) {
      const w = this.averaged++ === 0 ? 1 : 0.1;
      for (const k of PHASE_NAMES) this.breakdown[k] = (1 - w) * this.breakdown[k] + w * now[k];
    }
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
