/**
 * The synchronous data-parallel training loop, independent of where
 * gradients are computed: one process (`baseline`) and the cluster plug in
 * a different GradientSource and Validator, and everything else (batch
 * schedule, updates, callbacks, stopping) is this one piece of code.
 */
import { epochOrder, epochSeed, globalBatch, stepsPerEpoch } from './batch-schedule';
import { CallbackList, EpochLogs, EpochProgress, LoopState, TrainingCallback } from './callbacks';
import type { GradientSums } from './gradient-step';
import type { ParameterUpdate } from './parameter-update';
import type { FloatArray } from '../wire/tensor-codec';

export interface StepWork {
  step: number;
  epoch: number;
  indices: Uint32Array;
  seed: number;
  /**
   * A source whose gradients arrive in parts may hand over tensors whose
   * sums over the whole batch are complete before the rest are; they are
   * applied at once, while the rest of the batch is still being computed.
   */
  applyEarly?: (indices: number[], sums: FloatArray[]) => void;
}

/** Where the gradient sums of a global batch come from: this process, or the workers. */
export interface GradientSource {
  computeBatch(work: StepWork): Promise<GradientSums>;
  /** Workers that contributed to the last batch (1 in one process). */
  readonly lastWorkerCount?: number;
}

/** Loss and accuracy on the validation indices, with the weights (or their EMA) as they are after `at.step` steps. */
export type Validator = (indices: Uint32Array, at: { step: number; epoch: number }) => Promise<{ loss: number; accuracy: number }>;

export interface TrainingPosition {
  /** Epochs fully done (the next epoch to run, 0-based). */
  epoch: number;
  /** Steps done in total. */
  step: number;
  /** Steps done in the epoch in progress, with its sums so far (a run resumed mid-epoch). */
  stepInEpoch?: number;
  progress?: EpochProgress;
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

/**
 * The first steps of a process compile kernels and open connections; the
 * steady-state figures leave them out, as Horovod's synthetic benchmark
 * does with its warm-up batches.
 */
export const WARMUP_STEPS = 5;

/** Steps run by this process, with the time inside them (gradients + update, no validation or callbacks). */
export interface StepTotals {
  steps: number;
  samples: number;
  stepSeconds: number;
  /** Of stepSeconds, the time spent applying updates once the gradients were in (parts applied early overlap the gradients). */
  applySeconds: number;
}

export interface TrainingOutcome {
  history: EpochLogs[];
  position: TrainingPosition;
  stoppedEarly: boolean;
  /** Every step this process ran. */
  all: StepTotals;
  /** The steps after the first WARMUP_STEPS (all of them when the run was shorter). */
  steady: StepTotals;
  trainSeconds: number;
}

const noTotals = (): StepTotals => ({ steps: 0, samples: 0, stepSeconds: 0, applySeconds: 0 });

const noProgress = (): EpochProgress => ({ lossSum: 0, correct: 0, samples: 0, stepSeconds: 0 });

export async function runTrainingLoop(input: TrainingLoopInput): Promise<TrainingOutcome> {
  const callbacks = new CallbackList(input.callbacks);
  try {
    return await train(input, callbacks);
  } catch (err) {
    await callbacks.onTrainError(err);
    throw err;
  }
}

async function train(input: TrainingLoopInput, callbacks: CallbackList): Promise<TrainingOutcome> {
  const start = input.start ?? { epoch: 0, step: 0 };
  const loop: LoopState = {
    stopTraining: false,
    epoch: start.epoch,
    step: start.step,
    stepInEpoch: start.stepInEpoch ?? 0,
    progress: { ...(start.progress ?? noProgress()) },
    history: [...(input.history ?? [])],
  };
  const perEpoch = stepsPerEpoch(input.trainIndices.length, input.batchSize);
  const stepLimit = input.maxSteps !== undefined && input.maxSteps > 0 ? input.maxSteps : Infinity;
  const all = noTotals();
  const steady = noTotals();
  const begin = process.hrtime.bigint();
  await callbacks.onTrainBegin(loop);
  while (loop.epoch < input.epochs && !loop.stopTraining && loop.step < stepLimit) {
    const epoch = loop.epoch;
    await callbacks.onEpochBegin(epoch + 1);
    const order = epochOrder(input.trainIndices, input.seed, epoch);
    const seed = epochSeed(input.seed, epoch);
    const epochStart = process.hrtime.bigint();
    const progress = loop.progress;
    while (loop.stepInEpoch < perEpoch && loop.step < stepLimit) {
      const stepStart = process.hrtime.bigint();
      const indices = globalBatch(order, input.batchSize, loop.stepInEpoch);
      const update = input.update.beginStep(loop.step, indices.length);
      const sums = await input.source.computeBatch({ step: loop.step, epoch, indices, seed, applyEarly: update.applyEarly });
      const lr = input.update.learningRate(loop.step);
      const applyStart = process.hrtime.bigint();
      update.finish(sums);
      const applySeconds = secondsSince(applyStart);
      loop.step++;
      loop.stepInEpoch++;
      const seconds = secondsSince(stepStart);
      const warmup = all.steps < WARMUP_STEPS;
      // Every step counts in `all`, and past the warm-up in `steady` too.
      for (const t of warmup ? [all] : [all, steady]) {
        t.steps++;
        t.samples += sums.count;
        t.stepSeconds += seconds;
        t.applySeconds += applySeconds;
      }
      progress.lossSum += sums.lossSum;
      progress.correct += sums.correct;
      progress.samples += sums.count;
      progress.stepSeconds += seconds;
      await callbacks.onStepEnd({
        step: loop.step,
        epoch: epoch + 1,
        stepInEpoch: loop.stepInEpoch,
        stepsPerEpoch: perEpoch,
        loss: sums.lossSum / sums.count,
        accuracy: sums.correct / sums.count,
        samples: sums.count,
        lr,
        seconds,
        applySeconds,
        warmup,
        workers: input.source.lastWorkerCount,
      });
    }
    if (loop.stepInEpoch < perEpoch) break; // stopped by --max-steps inside the epoch
    const val = input.validationIndices.length > 0 ? await input.validate(input.validationIndices, { step: loop.step, epoch }) : { loss: NaN, accuracy: NaN };
    const logs: EpochLogs = {
      epoch: epoch + 1,
      loss: progress.lossSum / progress.samples,
      accuracy: progress.correct / progress.samples,
      val_loss: val.loss,
      val_accuracy: val.accuracy,
      seconds: secondsSince(epochStart),
      samplesPerSecond: progress.samples / progress.stepSeconds,
    };
    loop.history.push(logs);
    loop.epoch++;
    loop.stepInEpoch = 0;
    loop.progress = noProgress();
    await callbacks.onEpochEnd(logs, loop);
  }
  await callbacks.onTrainEnd(loop.history);
  return {
    history: loop.history,
    position: { epoch: loop.epoch, step: loop.step, stepInEpoch: loop.stepInEpoch, progress: loop.progress },
    stoppedEarly: loop.stopTraining,
    all,
    steady: steady.steps > 0 ? steady : all,
    trainSeconds: secondsSince(begin),
  };
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
