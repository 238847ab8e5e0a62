/**
 * Training-loop hooks as small callback objects, in the manner of
 * tfjs-layers: the loop calls them in order; a callback that wants training
 * to end sets `loop.stopTraining`, which the loop checks after each epoch.
 */
export interface StepLogs {
  step: number;
  epoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  loss: number;
  accuracy: number;
  samples: number;
  lr: number;
  seconds: number;
  /** Of `seconds`, the optimizer update (it ended just before this callback). */
  applySeconds: number;
  /** One of this process's first WARMUP_STEPS steps, which the steady-state figures leave out. */
  warmup: boolean;
  /** Present in a cluster: workers that contributed to this step. */
  workers?: number;
}

export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  seconds: number;
  samplesPerSecond: number;
  [metric: string]: number;
}

export interface StopControl {
  stopTraining: boolean;
}

/** Sums of the epoch in progress, so that a run resumed mid-epoch reports the same epoch metrics. */
export interface EpochProgress {
  lossSum: number;
  correct: number;
  samples: number;
  stepSeconds: number;
}

/** Where the loop is, for callbacks that save it (checkpoints). Read-only for them. */
export interface LoopState extends StopControl {
  /** Epochs completed (0-based index of the epoch in progress). */
  epoch: number;
  /** Steps completed in the epoch in progress. */
  stepInEpoch: number;
  /** Steps completed in total. */
  step: number;
  progress: EpochProgress;
  history: EpochLogs[];
}

export interface TrainingCallback {
  onTrainBegin?(loop: LoopState): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onStepEnd?(logs: StepLogs): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, loop: StopControl): void | Promise<void>;
  onTrainEnd?(history: EpochLogs[]): void | Promise<void>;
  /**
   * The run ended by an error instead (stopped, diverged, a full disk): what a
   * callback holds open (a progress bar's redraw timer and hidden cursor) is
   * let go here, or the process would outlive its run.
   */
  onTrainError?(error: unknown): void | Promise<void>;
}

export class CallbackList implements TrainingCallback {
  constructor(private readonly callbacks: TrainingCallback[]) {}

  async onTrainBegin(loop: LoopState): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(loop);
  }
  async onEpochBegin(epoch: number): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch);
  }
  async onStepEnd(logs: StepLogs): Promise<void> {
    for (const c of this.callbacks) await c.onStepEnd?.(logs);
  }
  async onEpochEnd(logs: EpochLogs, loop: StopControl): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(logs, loop);
  }
  async onTrainEnd(history: EpochLogs[]): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(history);
  }
  async onTrainError(error: unknown): Promise<void> {
    for (const c of this.callbacks) {
      try {
        await c.onTrainError?.(error);
      } catch {
        // Every callback is told, whatever one of them throws: the run's own error is the one to report.
      }
    }
  }
}
