/**
 * The options that change what training computes, which a resumed run must
 * share with its checkpoint. A checkpoint keeps them by flag name beside
 * their hash, so a refused resume can say which flags differ rather than
 * that something does.
 */
import { createHash } from 'node:crypto';
import type { TrainingOptions } from '../shared/config/training-options';

export type TrainingIdentity = Record<string, string | number | boolean | null>;

export function trainingIdentity(o: TrainingOptions): TrainingIdentity {
  return {
    model: o.model,
    'batch-size': o.batchSize,
    optimizer: o.optimizer,
    lr: o.lr,
    momentum: o.momentum,
    'lr-schedule': o.lrSchedule,
    'lr-decay-rate': o.lrDecayRate,
    'lr-decay-steps': o.lrDecaySteps,
    'lr-staircase': o.lrStaircase,
    'warmup-epochs': o.warmupEpochs,
    'reference-batch': o.referenceBatch,
    l1: o.l1,
    l2: o.l2,
    dropout: o.dropout,
    'ema-decay': o.emaDecay,
    augment: o.augment !== undefined,
    'augment-shift': o.augment?.shift ?? null,
    'augment-rotate': o.augment?.rotate ?? null,
    'validation-split': o.validationSplit,
    seed: o.seed,
    'init-from': o.initFrom ?? null,
    'freeze-layers': o.freezeLayers,
  };
}

export function identityHash(identity: TrainingIdentity, datasetSha256: string): string {
  return createHash('sha256').update(JSON.stringify({ identity, datasetSha256 })).digest('hex');
}

function shown(value: TrainingIdentity[string] | undefined): string {
  if (value === undefined || value === null) return 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

/** `--lr 0.5 (the checkpoint: 0.01)` for each flag whose value differs; empty when none does. */
export function identityDifferences(now: TrainingIdentity, then: TrainingIdentity): string[] {
  return Object.keys(now)
    .filter((flag) => (then[flag] ?? null) !== now[flag])
    .map((flag) => `--${flag} ${shown(now[flag])} (the checkpoint: ${shown(then[flag])})`);
}
