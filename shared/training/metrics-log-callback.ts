/** Appends one JSON line per epoch (and every Nth step) to the run's metrics.jsonl. */
import * as fs from 'node:fs';
import type { EpochLogs, StepLogs, TrainingCallback } from './callbacks';

export class MetricsLogCallback implements TrainingCallback {
  constructor(
    private readonly file: string,
    private readonly everySteps = 10,
  ) {}

  private append(record: object): void {
    fs.appendFileSync(this.file, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }

  onStepEnd(s: StepLogs): void {
    if (s.step % this.everySteps === 0) this.append({ type: 'step', ...s });
  }

  onEpochEnd(e: EpochLogs): void {
    this.append({ type: 'epoch', ...e });
  }
}
