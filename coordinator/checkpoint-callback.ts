/**
 * Writes a checkpoint every `every` steps and at the end of every epoch,
 * keeps the newest `keep`, and copies the best epoch's (bestEpochMetric) to
 * best/.
 */
import { bestEpochMetric, betterThan } from '../shared/config/training-options';
import type { Logger } from '../shared/logging';
import type { EpochLogs, LoopState, StepLogs, TrainingCallback } from '../shared/training/callbacks';
import { CheckpointStore } from './checkpoint-store';
import { checkpointFiles, CheckpointSubjects } from './run-checkpoint';

export class CheckpointCallback implements TrainingCallback {
  private loop: LoopState | undefined;
  private best: number | undefined;
  /** Seconds spent writing checkpoints, for the logs and benchmarks. */
  seconds = 0;

  constructor(
    private readonly store: CheckpointStore,
    private readonly subjects: CheckpointSubjects,
    private readonly every: number,
    private readonly keep: number,
    private readonly log: Logger,
    private readonly onWritten?: (seconds: number) => void,
  ) {}

  onTrainBegin(loop: LoopState): void {
    this.loop = loop;
  }

  async onStepEnd(s: StepLogs): Promise<void> {
    if (this.every > 0 && s.step % this.every === 0 && s.stepInEpoch < s.stepsPerEpoch) await this.save();
  }

  async onEpochEnd(e: EpochLogs): Promise<void> {
    const dir = await this.save();
    const metric = bestEpochMetric(this.subjects.options);
    const value = e[metric];
    if (betterThan(metric, value, this.best)) {
      this.best = value;
      this.store.markBest(dir);
    }
  }

  private async save(): Promise<string> {
    const start = Date.now();
    const loop = this.loop!;
    const dir = this.store.write(loop.step, await checkpointFiles(this.subjects, loop));
    this.store.prune(this.keep);
    const seconds = (Date.now() - start) / 1000;
    this.seconds += seconds;
    this.onWritten?.(seconds);
    this.log.debug(`checkpoint ${dir} written in ${(seconds * 1000).toFixed(0)} ms`);
    return dir;
  }
}
