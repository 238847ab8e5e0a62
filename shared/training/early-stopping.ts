/**
 * Early stopping with Keras 3 semantics (keras.callbacks.EarlyStopping):
 * an epoch improves when `current - min_delta` beats the best so far (the
 * sign of min_delta flips in min mode); the patience counter resets only
 * when it also beats `baseline`, if one is set; training stops once
 * `patience` epochs in a row did not reset it; with restore_best_weights the
 * best epoch's weights are put back at the end. Its state is plain data so
 * that a checkpoint can carry it and a resumed run stops at the same epoch.
 */
import { ConfigError } from '../errors';
import type { EpochLogs, StopControl, TrainingCallback } from './callbacks';

export interface EarlyStoppingOptions {
  monitor: 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy';
  mode: 'auto' | 'min' | 'max';
  minDelta: number;
  patience: number;
  baseline?: number;
  restoreBestWeights: boolean;
  /** Epochs (counted from 0, as in Keras) to train before monitoring starts. */
  startFromEpoch: number;
}

export interface EarlyStoppingState {
  wait: number;
  best: number | null;
  /** 1-based epoch of the best value, 0 when none yet. */
  bestEpoch: number;
  /** 1-based epoch at which training was stopped, 0 when it was not. */
  stoppedEpoch: number;
}

export interface WeightAccess {
  get(): Float32Array[];
  set(weights: Float32Array[]): void;
}

export class EarlyStopping implements TrainingCallback {
  private state: EarlyStoppingState = { wait: 0, best: null, bestEpoch: 0, stoppedEpoch: 0 };
  private bestWeights: Float32Array[] | undefined;
  private readonly greaterIsBetter: boolean;
  private readonly signedMinDelta: number;

  constructor(
    private readonly options: EarlyStoppingOptions,
    private readonly weights?: WeightAccess,
  ) {
    if (options.patience < 0) throw new ConfigError(`early-stopping patience ${options.patience} must be >= 0`);
    this.greaterIsBetter = options.mode === 'max' || (options.mode === 'auto' && options.monitor.includes('acc'));
    this.signedMinDelta = this.greaterIsBetter ? Math.abs(options.minDelta) : -Math.abs(options.minDelta);
  }

  private isImprovement(value: number, reference: number | null): boolean {
    if (reference === null) return true;
    const shifted = value - this.signedMinDelta;
    return this.greaterIsBetter ? shifted > reference : shifted < reference;
  }

  /** A run resumed after it had already stopped early stays stopped. */
  onTrainBegin(loop: StopControl): void {
    if (this.state.stoppedEpoch > 0) loop.stopTraining = true;
  }

  onEpochEnd(logs: EpochLogs, loop: StopControl): void {
    const current = logs[this.options.monitor];
    const epochIndex = logs.epoch - 1;
    if (current === undefined || Number.isNaN(current) || epochIndex < this.options.startFromEpoch) return;
    if (this.options.restoreBestWeights && this.bestWeights === undefined) this.bestWeights = this.weights?.get();
    this.state.wait++;
    if (this.isImprovement(current, this.state.best)) {
      this.state.best = current;
      this.state.bestEpoch = logs.epoch;
      if (this.options.restoreBestWeights) this.bestWeights = this.weights?.get();
      if (this.options.baseline === undefined || this.isImprovement(current, this.options.baseline)) this.state.wait = 0;
      return;
    }
    if (this.state.wait >= this.options.patience && epochIndex > 0) {
      this.state.stoppedEpoch = logs.epoch;
      loop.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.options.restoreBestWeights && this.bestWeights !== undefined) this.weights?.set(this.bestWeights);
  }

  getState(): EarlyStoppingState {
    return { ...this.state };
  }

  /** Best-epoch weights kept for restore_best_weights, if any. */
  getBestWeights(): Float32Array[] | undefined {
    return this.bestWeights;
  }

  restore(state: EarlyStoppingState, bestWeights?: Float32Array[]): void {
    this.state = { ...state };
    this.bestWeights = bestWeights;
  }
}
