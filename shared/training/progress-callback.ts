/**
 * What a person watching sees: a progress bar (cli-progress) per epoch when
 * stdout is a terminal, and one log line per epoch always.
 */
import cliProgress from 'cli-progress';
import type { Logger } from '../logging';
import { sendLinesAboveBar } from '../observability/terminal-lines';
import type { EpochLogs, StepLogs, TrainingCallback } from './callbacks';

export class ProgressCallback implements TrainingCallback {
  private shown: { bars: cliProgress.MultiBar; bar: cliProgress.SingleBar; linesBack: () => void } | undefined;
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
    if (this.shown !== undefined) {
      this.shown.bar.update(s.stepInEpoch, figures);
      return;
    }
    // A MultiBar (of one bar) for its log(): lines written meanwhile go above the bar, not over it.
    const bars = new cliProgress.MultiBar(
      {
        format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {rate} samples/s | {workers} workers',
        hideCursor: true,
        clearOnComplete: true,
        stream: this.terminal,
      },
      cliProgress.Presets.shades_classic,
    );
    // Created with its figures: its first frame is drawn at once, and without them showed the bare template ('epoch {epoch}/{epochs}').
    const bar = bars.create(s.stepsPerEpoch, s.stepInEpoch, figures);
    this.shown = { bars, bar, linesBack: sendLinesAboveBar((text) => bars.log(text)) };
  }

  onEpochEnd(e: EpochLogs): void {
    this.takeDown();
    this.log.info(
      `epoch ${e.epoch}/${this.totalEpochs}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(4)}${validationPart(e)} (${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s)`,
    );
  }

  onTrainEnd(): void {
    this.takeDown();
  }

  onTrainError(): void {
    this.takeDown();
  }

  private takeDown(): void {
    if (this.shown === undefined) return;
    const { bars, linesBack } = this.shown;
    this.shown = undefined;
    linesBack();
    // Lines logged since the last redraw wait in its buffer: one more redraw writes them, then the bar goes.
    bars.update();
    bars.stop();
  }
}

/** A run with --validation-split 0 has no validation metrics (NaN): none are printed, as Keras prints none without validation data. */
function validationPart(e: EpochLogs): string {
  return Number.isNaN(e.val_loss) ? '' : ` val_loss ${e.val_loss.toFixed(4)} val_acc ${e.val_accuracy.toFixed(4)}`;
}
