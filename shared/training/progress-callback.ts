/**
 * What a person watching sees: a progress bar (cli-progress) per epoch when
 * stdout is a terminal, and one log line per epoch always.
 */
import cliProgress from 'cli-progress';
import type { Logger } from '../logging';
import type { EpochLogs, StepLogs, TrainingCallback } from './callbacks';

export class ProgressCallback implements TrainingCallback {
  private bar: cliProgress.SingleBar | undefined;
  private samples = 0;
  private started = 0;

  constructor(
    private readonly log: Logger,
    private readonly totalEpochs: number,
    private readonly interactive: boolean,
    private readonly terminal: NodeJS.WritableStream = process.stderr,
  ) {}

  onEpochBegin(): void {
    this.samples = 0;
    this.started = Date.now();
  }

  onStepEnd(s: StepLogs): void {
    this.samples += s.samples;
    if (!this.interactive) return;
    const rate = this.samples / Math.max(1e-3, (Date.now() - this.started) / 1000);
    const figures = {
      epoch: s.epoch,
      epochs: this.totalEpochs,
      loss: s.loss.toFixed(4),
      acc: s.accuracy.toFixed(4),
      rate: rate.toFixed(0),
      workers: s.workers ?? 1,
    };
    if (this.bar !== undefined) {
      this.bar.update(s.stepInEpoch, figures);
      return;
    }
    this.bar = new cliProgress.SingleBar(
      {
        format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {rate} samples/s | {workers} workers',
        hideCursor: true,
        clearOnComplete: true,
        stream: this.terminal,
      },
      cliProgress.Presets.shades_classic,
    );
    // Started with its figures: its first frame is drawn at once, and without them showed the bare template ('epoch {epoch}/{epochs}').
    this.bar.start(s.stepsPerEpoch, s.stepInEpoch, figures);
  }

  onEpochEnd(e: EpochLogs): void {
    this.bar?.stop();
    this.bar = undefined;
    this.log.info(
      `epoch ${e.epoch}/${this.totalEpochs}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(4)}${validationPart(e)} (${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s)`,
    );
  }

  onTrainEnd(): void {
    this.bar?.stop();
  }

  onTrainError(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** A run with --validation-split 0 has no validation metrics (NaN): none are printed, as Keras prints none without validation data. */
function validationPart(e: EpochLogs): string {
  return Number.isNaN(e.val_loss) ? '' : ` val_loss ${e.val_loss.toFixed(4)} val_acc ${e.val_accuracy.toFixed(4)}`;
}
