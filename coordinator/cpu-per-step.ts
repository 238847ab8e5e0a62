/**
 * The coordinator's own CPU time (user and system, all of its threads) per
 * training step past the warm-up. On one machine it shares the cores with
 * the workers; with every worker on a host of its own it is what the
 * coordinator alone still spends per step, so a step can be no shorter.
 */
import type { StepLogs, TrainingCallback } from '../shared/training/callbacks';

export class CpuPerStep implements TrainingCallback {
  private last: NodeJS.CpuUsage;
  private micros = 0;
  private steps = 0;

  constructor(private readonly usage: () => NodeJS.CpuUsage = () => process.cpuUsage()) {
    this.last = usage();
  }

  onStepEnd(s: Pick<StepLogs, 'warmup'>): void {
    const now = this.usage();
    const used = now.user - this.last.user + now.system - this.last.system;
    this.last = now;
    if (s.warmup) return;
    this.micros += used;
    this.steps++;
  }

  /** Milliseconds per steady step (0 before one has ended). */
  msPerStep(): number {
    return this.steps > 0 ? this.micros / 1000 / this.steps : 0;
  }
}
