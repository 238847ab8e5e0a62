/** What a person watching a run in a terminal sees: the progress bar, then one line per epoch. */
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import type { StepLogs } from '../../../../shared/training/callbacks';
import { ProgressCallback } from '../../../../shared/training/progress-callback';
import { writeLines } from '../../../../shared/observability/terminal-lines';
import { lineLogger } from '../../../helpers/line-log';
import { screenOf } from '../../../helpers/terminal-screen';

/** A stream cli-progress takes for a terminal, keeping what is drawn on it. */
function fakeTerminal(): { stream: NodeJS.WritableStream; drawn: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 160, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let drawn = '';
  stream.on('data', (d: Buffer) => (drawn += d.toString('utf8')));
  return { stream, drawn: () => drawn };
}

const step = (stepInEpoch: number): StepLogs => ({
  step: stepInEpoch, epoch: 1, stepInEpoch, stepsPerEpoch: 10, loss: 0.5, accuracy: 0.75, samples: 64, lr: 0.001, seconds: 0.01, applySeconds: 0.001, warmup: false, workers: 2,
});

describe('the progress bar', () => {
  it('draws its first frame with the epoch, loss and workers filled in, never the bare template', () => {
    const { stream, drawn } = fakeTerminal();
    const progress = new ProgressCallback(lineLogger('info').log, 3, true, stream);
    progress.onEpochBegin();
    progress.onStepEnd(step(1));
    progress.onTrainEnd();
    assert.match(drawn(), /epoch 1\/3 \[.*\] 1\/10 \| loss 0\.5000 \| acc 0\.7500 \| \d+ samples\/s \| 2 workers/);
    assert.doesNotMatch(drawn(), /\{\w+\}/);
  });

  it('is taken down when the run ends by an error (Ctrl-C, divergence): its redraw timer would keep the process alive, its cursor hidden', () => {
    const { stream, drawn } = fakeTerminal();
    const progress = new ProgressCallback(lineLogger('info').log, 3, true, stream);
    progress.onEpochBegin();
    progress.onStepEnd(step(1));
    assert.doesNotMatch(drawn(), /\x1b\[\?25h/);
    progress.onTrainError();
    assert.match(drawn(), /\x1b\[\?25h/, 'the cursor is shown again');
  });

  it('keeps every line logged while it is shown, above it and in order, and leaves only them on the screen when taken down', async () => {
    const { stream, drawn } = fakeTerminal();
    const progress = new ProgressCallback(lineLogger('info').log, 3, true, stream);
    progress.onEpochBegin();
    progress.onStepEnd(step(1));
    writeLines('first line\n');
    progress.onStepEnd(step(2));
    await new Promise((resolve) => setTimeout(resolve, 150)); // a redraw of the bar comes between
    writeLines('second line\n[worker-1] third line\n');
    progress.onStepEnd(step(3));
    progress.onTrainEnd();
    assert.deepEqual(screenOf(drawn()), ['first line', 'second line', '[worker-1] third line']);
  });

  it('draws nothing when stdout is not a terminal, and logs each epoch', () => {
    const { stream, drawn } = fakeTerminal();
    const { log, lines } = lineLogger('info');
    const progress = new ProgressCallback(log, 3, false, stream);
    progress.onEpochBegin();
    progress.onStepEnd(step(1));
    progress.onEpochEnd({ epoch: 1, loss: 0.5, accuracy: 0.75, val_loss: NaN, val_accuracy: NaN, seconds: 2, samplesPerSecond: 320 });
    assert.equal(drawn(), '');
    assert.deepEqual(lines, ['epoch 1/3: loss 0.5000 acc 0.7500 (2.0 s, 320 samples/s)']);
  });
});
