/** Training curves for TensorBoard: step scalars every few steps, epoch scalars at each epoch end. */
import { EventFileWriter } from '../observability/tfevents-writer';
import type { EpochLogs, StepLogs, TrainingCallback } from './callbacks';

export class TensorBoardCallback implements TrainingCallback {
  private writer: EventFileWriter | undefined;

  constructor(
    private readonly dir: string,
    private readonly everySteps = 10,
  ) {}

  onTrainBegin(): void {
    this.writer = new EventFileWriter(this.dir);
  }

  onStepEnd(s: StepLogs): void {
    if (s.step % this.everySteps !== 0) return;
    this.writer?.scalars(s.step, {
      'train/loss': s.loss,
      'train/accuracy': s.accuracy,
      'train/learning_rate': s.lr,
      'train/samples_per_second': s.seconds > 0 ? s.samples / s.seconds : NaN,
    });
  }

  onEpochEnd(e: EpochLogs): void {
    this.writer?.scalars(e.epoch, {
      'epoch/loss': e.loss,
      'epoch/accuracy': e.accuracy,
      'epoch/val_loss': e.val_loss,
      'epoch/val_accuracy': e.val_accuracy,
      'epoch/samples_per_second': e.samplesPerSecond,
    });
  }
}
