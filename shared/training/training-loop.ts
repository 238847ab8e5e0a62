/**
 * The synchronous data-parallel training loop, independent of where
 * gradients are computed: one process (`baseline`) and the cluster plug in
 * a different GradientSource and Validator, and everything else (batch
 * schedule, updates, callbacks, stopping) is this one piece of code.
 */
import { epochOrder, epochSeed, globalBatch, stepsPerEpoch } from './batch-schedule';
import { CallbackList, EpochLogs, StopControl, TrainingCallback } from './callbacks';
import type { GradientSums } from './gradient-step';
import type { ParameterUpdate } from './parameter-update';

export interface StepWork {
  step: number;
  epoch: number;
  indices: Uint32Array;
  seed: number;
}

/** Where the gradient sums of a global batch come from: this process, or the workers. */
export interface GradientSource {
  computeBatch(work: StepWork): Promise<GradientSums>;
  /** Workers that contributed to the last batch (1 in one process). */
  readonly lastWorkerCount?: number;
}

/** Loss and accuracy on the validation indices, with the weights (or their EMA) as they are now. */
export type Validator = (indices: Uint32Array) => Promise<{ loss: number; accuracy: number }>;

export interface TrainingPosition {
  /** Epochs fully done (the next epoch to run, 0-based). */
  epoch: number;
  /** Steps done in total. */
  step: number;
}

export interface TrainingLoopInput {
  trainIndices: Uint32Array;
  validationIndices: Uint32Array;
  batchSize: number;
  epochs: number;
  /** Stop after this many steps in total (0 = no limit); the epoch in progress still gets its validation. */
  maxSteps?: number;
  seed: number;
  source: GradientSource;
  update: ParameterUpdate;
  validate: Validator;
  callbacks: TrainingCallback[];
  /** Where to start, for a resumed run; a fresh run starts at {0, 0}. */
  start?: TrainingPosition;
  history?: EpochLogs[];
}

export interface TrainingOutcome {
  history: EpochLogs[];
  position: TrainingPosition;
  stoppedEarly: boolean;
  samplesTrained: number;
  /** Time inside steps (gradients + update), without validation: the throughput denominator. */
  stepSeconds: number;
  /** Of stepSeconds, the time spent applying updates. */
  applySeconds: number;
  trainSeconds: number;
}

export async function runTrainingLoop(input: TrainingLoopInput): Promise<TrainingOutcome> {
  const callbacks = new CallbackList(input.callbacks);
  const loop: StopControl = { stopTraining: false };
  const history = [...(input.history ?? [])];
  const position = { ...(input.start ?? { epoch: 0, step: 0 }) };
  const perEpoch = stepsPerEpoch(input.trainIndices.length, input.batchSize);
  let samplesTrained = 0;
  let stepSeconds = 0;
  let applySeconds = 0;
  const begin = process.hrtime.bigint();
  await callbacks.onTrainBegin(loop);
  while (position.epoch < input.epochs && !loop.stopTraining) {
    const epoch = position.epoch;
    await callbacks.onEpochBegin(epoch + 1);
    const order = epochOrder(input.trainIndices, input.seed, epoch);
    const seed = epochSeed(input.seed, epoch);
    const epochStart = process.hrtime.bigint();
    let lossSum = 0;
    let correct = 0;
    let samples = 0;
    const stepLimit = input.maxSteps !== undefined && input.maxSteps > 0 ? input.maxSteps : Infinity;
    for (let s = 0; s < perEpoch && position.step < stepLimit; s++) {
      const stepStart = process.hrtime.bigint();
      const indices = globalBatch(order, input.batchSize, s);
      const sums = await input.source.computeBatch({ step: position.step, epoch, indices, seed });
      const lr = input.update.learningRate(position.step);
      const applyStart = process.hrtime.bigint();
      input.update.apply(sums, position.step);
      applySeconds += secondsSince(applyStart);
      position.step++;
      const seconds = secondsSince(stepStart);
      stepSeconds += seconds;
      lossSum += sums.lossSum;
      correct += sums.correct;
      samples += sums.count;
      await callbacks.onStepEnd({
        step: position.step,
        epoch: epoch + 1,
        stepInEpoch: s + 1,
        stepsPerEpoch: perEpoch,
        loss: sums.lossSum / sums.count,
        accuracy: sums.correct / sums.count,
        samples: sums.count,
        lr,
        seconds,
        workers: input.source.lastWorkerCount,
      });
    }
    samplesTrained += samples;
    const trainSeconds = secondsSince(epochStart);
    const val = input.validationIndices.length > 0 ? await input.validate(input.validationIndices) : { loss: NaN, accuracy: NaN };
    const logs: EpochLogs = {
      epoch: epoch + 1,
      loss: lossSum / samples,
      accuracy: correct / samples,
      val_loss: val.loss,
      val_accuracy: val.accuracy,
      seconds: secondsSince(epochStart),
      samplesPerSecond: samples / trainSeconds,
    };
    history.push(logs);
    position.epoch++;
    await callbacks.onEpochEnd(logs, loop);
    if (position.step >= stepLimit) break;
  }
  await callbacks.onTrainEnd(history);
  return { history, position, stoppedEarly: loop.stopTraining, samplesTrained, stepSeconds, applySeconds, trainSeconds: secondsSince(begin) };
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
