/**
 * What a checkpoint holds and how a run comes back from it: the model (tfjs
 * LayersModel files, readable by tf.loadLayersModel), the optimizer's slots,
 * the weight EMA, early stopping, and the loop's position down to the step
 * within the epoch, so a resumed run replays the uninterrupted one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingOptions } from '../shared/config/training-options';
import { ModelError, UserError } from '../shared/errors';
import { captureLayersModel, MODEL_JSON, WEIGHTS_BIN } from '../shared/io/layers-model-files';
import type { EpochLogs, EpochProgress, LoopState } from '../shared/training/callbacks';
import type { EarlyStopping, EarlyStoppingState } from '../shared/training/early-stopping';
import type { PreparedRun } from '../shared/training/run-setup';
import type { TrainingPosition } from '../shared/training/training-loop';
import { writeWeights } from '../shared/training/weights';
import { CHECKPOINT_FILES, LOOP_STATE } from './checkpoint-files';
import { identityDifferences, identityHash, TrainingIdentity, trainingIdentity } from './training-identity';
import { CheckpointFiles, CheckpointStore } from './checkpoint-store';
import { locateCheckpoint } from './saved-model-location';


export interface CheckpointState {
  format: 1;
  step: number;
  epoch: number;
  stepInEpoch: number;
  progress: EpochProgress;
  history: EpochLogs[];
  seed: number;
  configHash: string;
  /** What configHash hashes, by flag name (absent in checkpoints from before it was kept). */
  options?: TrainingIdentity;
  datasetSha256: string;
  emaUpdates?: number;
  earlyStopping?: EarlyStoppingState;
}

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

function packTensors(tensors: { name: string; tensor: tf.Tensor }[]): { json: string; bin: Uint8Array } {
  const entries: TensorEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const { name, tensor } of tensors) {
    const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
    const values = dtype === 'int32' ? Int32Array.from(tensor.dataSync()) : Float32Array.from(tensor.dataSync());
    entries.push({ name, shape: tensor.shape, dtype });
    parts.push(new Uint8Array(values.buffer));
  }
  return { json: JSON.stringify(entries), bin: Buffer.concat(parts) };
}

function unpackTensors(json: string, bin: Buffer): { name: string; tensor: tf.Tensor }[] {
  const entries = JSON.parse(json) as TensorEntry[];
  const out: { name: string; tensor: tf.Tensor }[] = [];
  let at = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const bytes = bin.subarray(at, at + 4 * n);
    if (bytes.length !== 4 * n) throw new ModelError('optimizer.bin is shorter than optimizer.json describes');
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const values = e.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
    out.push({ name: e.name, tensor: tf.tensor(values, e.shape, e.dtype) });
    at += 4 * n;
  }
  return out;
}

function floatsToBytes(arrays: Float32Array[]): Uint8Array {
  return Buffer.concat(arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
}

function bytesToFloats(bytes: Buffer, sizes: number[]): Float32Array[] {
  const want = 4 * sizes.reduce((a, b) => a + b, 0);
  if (bytes.length !== want) throw new ModelError(`a weights file has ${bytes.length} bytes, the model needs ${want}`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let at = 0;
  return sizes.map((n) => all.slice(at, (at += n)));
}

export interface CheckpointSubjects {
  run: PreparedRun;
  options: TrainingOptions;
  earlyStopping?: EarlyStopping;
}

export async function checkpointFiles(s: CheckpointSubjects, loop: LoopState): Promise<CheckpointFiles> {
  const { run } = s;
  const { modelJson, weights } = await captureLayersModel(run.model);
  const optimizer = packTensors(await run.update.optimizer.getWeights());
  const identity = trainingIdentity(s.options);
  const state: CheckpointState = {
    format: 1,
    step: loop.step,
    epoch: loop.epoch,
    stepInEpoch: loop.stepInEpoch,
    progress: loop.progress,
    history: loop.history,
    seed: s.options.seed,
    configHash: identityHash(identity, run.dataset.sha256),
    options: identity,
    datasetSha256: run.dataset.sha256,
    emaUpdates: run.update.ema?.count,
    earlyStopping: s.earlyStopping?.getState(),
  };
  const files: CheckpointFiles = {
    [MODEL_JSON]: modelJson,
    [WEIGHTS_BIN]: weights,
    'optimizer.json': optimizer.json,
    'optimizer.bin': optimizer.bin,
    [LOOP_STATE]: JSON.stringify(state, null, 2),
  };
  if (run.update.ema !== undefined) files['ema.bin'] = floatsToBytes(run.update.ema.shadow.map((v) => v.dataSync() as Float32Array));
  const best = s.earlyStopping?.getBestWeights();
  if (best !== undefined) files['best-weights.bin'] = floatsToBytes(best);
  return files;
}

/** Picks the checkpoint `--resume` names: `auto` = the newest valid one in the run directory. */
export function resolveResume(resume: string, store: CheckpointStore, log: { warn(m: string): void; info(m: string): void }): string | undefined {
  if (resume === 'none') return undefined;
  if (resume === 'auto') {
    const { found, skipped } = store.newestValid();
    for (const s of skipped) log.warn(`not resuming from ${s.dir}: ${s.reason}`);
    if (found === undefined) {
      log.info(`no checkpoint to resume from in ${store.dir}; starting fresh`);
      return undefined;
    }
    return found.dir;
  }
  const { dir, chosen } = withFlagName(() => locateCheckpoint(resume));
  if (chosen !== undefined) log.info(`--resume ${resume}: ${dir}, ${chosen}`);
  const reason = CheckpointStore.verify(dir, CHECKPOINT_FILES);
  if (reason !== undefined) throw new UserError(`--resume ${resume}: not a usable checkpoint: ${reason}`);
  return dir;
}

/** Its messages start with the path given; the flag in front says which option was wrong. */
function withFlagName<T>(locate: () => T): T {
  try {
    return locate();
  } catch (err) {
    if (err instanceof ModelError) err.message = `--resume ${err.message}`;
    throw err;
  }
}

/** For a run that was stopped: what it can continue from, and the flags that continue it (with `changed` options, when the same would fail again). */
export function howToContinue(store: CheckpointStore, runDir: string, changed?: string): string {
  const { found } = store.newestValid();
  if (found === undefined) return `no checkpoint was written yet (--checkpoint-every N writes them every N steps); the run can only start again`;
  const how = changed === undefined ? `continue the run with the same options and --run-dir ${runDir} --resume auto` : `continue from it with ${changed} and --run-dir ${runDir} --resume auto --resume-force`;
  return `the newest checkpoint is ${found.dir} (step ${found.step}); ${how}`;
}

/** Restores everything a checkpoint holds into a prepared run; returns where the loop goes on. */
export async function restoreCheckpoint(dir: string, s: CheckpointSubjects, force: boolean): Promise<{ position: TrainingPosition; history: EpochLogs[] }> {
  try {
    return await restoreVerified(dir, s, force);
  } catch (err) {
    if (err instanceof UserError) throw err;
    // The manifest vouches for the bytes, not for what they say: a checkpoint edited by hand
    // (manifest and all) must still give a one-line error and leave other checkpoints alone.
    throw new ModelError(`${dir}: unusable checkpoint: ${(err as Error).message.split('\n')[0]}`);
  }
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNumberOrNull = (v: unknown): boolean => v === null || typeof v === 'number';

/** state.json, checked field by field: everything the loop and early stopping will trust. */
export function parseCheckpointState(text: string, dir: string): CheckpointState {
  const bad = (why: string) => new ModelError(`${dir}: state.json ${why}`);
  let st: CheckpointState;
  try {
    st = JSON.parse(text) as CheckpointState;
  } catch (err) {
    throw bad(`is not valid JSON (${(err as Error).message})`);
  }
  if (st === null || typeof st !== 'object' || st.format !== 1) throw bad('is not a gradfleet checkpoint state (format 1)');
  for (const key of ['step', 'epoch', 'stepInEpoch', 'seed'] as const) if (!isCount(st[key])) throw bad(`has a bad ${key}`);
  if (typeof st.configHash !== 'string' || typeof st.datasetSha256 !== 'string') throw bad('lacks its config hash or dataset identity');
  const p = st.progress;
  if (p === null || typeof p !== 'object' || ![p.lossSum, p.correct, p.samples, p.stepSeconds].every((v) => typeof v === 'number')) throw bad('has a bad progress record');
  if (!Array.isArray(st.history) || !st.history.every((h) => h !== null && typeof h === 'object')) throw bad('has a bad history');
  const o = st.options;
  if (o !== undefined && (o === null || typeof o !== 'object' || Array.isArray(o) || !Object.values(o).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)))) {
    throw bad('has a bad options record');
  }
  if (st.emaUpdates !== undefined && !isCount(st.emaUpdates)) throw bad('has a bad EMA count');
  const es = st.earlyStopping;
  if (es !== undefined && (es === null || typeof es !== 'object' || !isCount(es.wait) || !isNumberOrNull(es.best) || !isCount(es.bestEpoch) || !isCount(es.stoppedEpoch))) {
    throw bad('has a bad early-stopping state');
  }
  return st;
}

async function restoreVerified(dir: string, s: CheckpointSubjects, force: boolean): Promise<{ position: TrainingPosition; history: EpochLogs[] }> {
  const read = (name: string) => fs.readFileSync(path.join(dir, name));
  const state = parseCheckpointState(read(LOOP_STATE).toString('utf8'), dir);
  const { run } = s;
  if (state.datasetSha256 !== run.dataset.sha256) throw new UserError(`${dir}: the checkpoint was trained on another dataset`);
  const identity = trainingIdentity(s.options);
  if (state.configHash !== identityHash(identity, run.dataset.sha256) && !force) {
    const differences = state.options === undefined ? [] : identityDifferences(identity, state.options);
    // An earlier gradfleet kept only the hash, of its own making: its run's config.json still says what it ran with.
    const which = differences.length > 0 ? differences.join(', ') : "it does not record which (an earlier gradfleet wrote it: see its run's config.json)";
    throw new UserError(`${dir}: the run's options differ from the checkpoint's: ${which}; give the checkpoint's, or --resume-force to resume anyway`);
  }
  const sizes = run.model.weights.map((w) => w.read().size);
  const modelJson = JSON.parse(read(MODEL_JSON).toString('utf8')) as tf.io.ModelJSON;
  const named = tf.io.decodeWeights(read(WEIGHTS_BIN).buffer.slice(0) as ArrayBuffer, modelJson.weightsManifest[0].weights);
  try {
    writeWeights(
      run.model,
      run.model.weights.map((w) => {
        const t = named[w.originalName];
        if (t === undefined) throw new ModelError(`${dir}: weight ${w.originalName} is not in the checkpoint`);
        return t.dataSync() as Float32Array;
      }),
    );
  } finally {
    tf.dispose(Object.values(named));
  }
  const slots = unpackTensors(read('optimizer.json').toString('utf8'), read('optimizer.bin'));
  await run.update.optimizer.setWeights(slots);
  tf.dispose(slots.map((x) => x.tensor));
  if (run.update.ema !== undefined && state.emaUpdates !== undefined) {
    const shadow = bytesToFloats(read('ema.bin'), run.update.ema.shadow.map((v) => v.size));
    const tensors = shadow.map((a, i) => tf.tensor(a, run.update.ema!.shadow[i].shape));
    run.update.ema.restore(state.emaUpdates, tensors);
    tf.dispose(tensors);
  }
  if (s.earlyStopping !== undefined && state.earlyStopping !== undefined) {
    const best = fs.existsSync(path.join(dir, 'best-weights.bin')) ? bytesToFloats(read('best-weights.bin'), sizes) : undefined;
    s.earlyStopping.restore(state.earlyStopping, best);
  }
  return {
    position: { epoch: state.epoch, step: state.step, stepInEpoch: state.stepInEpoch, progress: state.progress },
    history: state.history,
  };
}
