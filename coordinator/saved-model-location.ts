/**
 * What `--checkpoint` of evaluate and predict may name. Besides a directory
 * with model.json in it (a run's model/, a checkpoint, best/), the places a
 * user has at hand, as Keras users hand a run's directory to
 * `tf.train.latest_checkpoint`: a run directory, its checkpoints/, or the
 * `latest` file in there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainingOptions } from '../shared/config/training-options';
import { ModelError } from '../shared/errors';
import { MODEL_JSON } from '../shared/io/layers-model-files';
import type { Logger } from '../shared/logging';
import { CheckpointStore, LATEST, MANIFEST } from './checkpoint-store';
import { CHECKPOINT_FILES, LOOP_STATE } from './checkpoint-files';

export interface SavedModelLocation {
  dir: string;
  /** How `dir` was found, when it is not the path given: for the log. */
  chosen?: string;
}

const FINAL_MODEL = "the run's final model";

/** A directory with model.json as it is; a run directory's final model/ or newest checkpoint that verifies, whichever is newer; its checkpoints/ or checkpoints/latest: the newest checkpoint. */
export function locateSavedModel(given: string): SavedModelLocation {
  const run = runOf(given);
  if (run === undefined) return { dir: given };
  const newest = newestCheckpoint(run.runDir);
  const finalModel = path.join(run.runDir, 'model');
  if (!run.checkpointsNamed && fs.existsSync(path.join(finalModel, MODEL_JSON))) {
    // A run resumed past its end has checkpoints newer than the model/ it wrote then.
    const found = newest.found;
    if (found === undefined || modifiedMs(path.join(finalModel, MODEL_JSON)) >= modifiedMs(path.join(found.dir, MANIFEST))) return { dir: finalModel, chosen: FINAL_MODEL };
  }
  return foundOrRefused(given, run, newest);
}

/** locateSavedModel, saying which model it took when it is not `given` itself. */
export function savedModelDir(given: string, log: Logger): string {
  const { dir, chosen } = locateSavedModel(given);
  if (chosen !== undefined) log.info(`${given}: using ${dir}, ${chosen}`);
  return dir;
}

/** The options with --init-from as users give it (a run directory, its checkpoints/) turned into the saved model it means. */
export function withInitFromLocated<T extends TrainingOptions>(o: T, log: Logger): T {
  return o.initFrom === undefined ? o : { ...o, initFrom: savedModelDir(o.initFrom, log) };
}

/** For --resume DIR: a checkpoint as it is (its verification says what is wrong with it); a run directory, its checkpoints/ or checkpoints/latest: the newest checkpoint that verifies. */
export function locateCheckpoint(given: string): SavedModelLocation {
  if (fs.existsSync(path.join(given, MANIFEST))) return { dir: given };
  // A checkpoint whose manifest was lost still has its loop state; a model/ never had one.
  if (fs.existsSync(path.join(given, MODEL_JSON)) && !fs.existsSync(path.join(given, LOOP_STATE))) {
    throw new ModelError(`${given}: a saved model, not a checkpoint (it holds no optimizer state or position in the run); give a checkpoint (RUN/checkpoints/ckpt-N) or the run directory`);
  }
  const run = runOf(given);
  return run === undefined ? { dir: given } : foundOrRefused(given, run, newestCheckpoint(run.runDir));
}

interface RunReference {
  runDir: string;
  /** checkpoints/ or its latest file was named, rather than the run. */
  checkpointsNamed: boolean;
}

/** The run `given` points into; undefined where it is a model or checkpoint directory itself. */
function runOf(given: string): RunReference | undefined {
  if (!fs.existsSync(given)) throw new ModelError(`${given}: no such file or directory`);
  if (fs.statSync(given).isFile()) {
    if (path.basename(given) !== LATEST) throw new ModelError(`${given}: a file; give a directory with ${MODEL_JSON}, a run directory or its checkpoints/`);
    return { runDir: path.dirname(path.dirname(given)), checkpointsNamed: true };
  }
  if (fs.existsSync(path.join(given, MODEL_JSON))) return undefined;
  if (path.basename(path.resolve(given)) === 'checkpoints' && !fs.existsSync(path.join(given, 'checkpoints'))) return { runDir: path.dirname(given), checkpointsNamed: true };
  if (!fs.existsSync(path.join(given, 'checkpoints')) && !fs.existsSync(path.join(given, 'model'))) {
    throw new ModelError(`${given}: no ${MODEL_JSON} here, and no model/ or checkpoints/ of a run`);
  }
  return { runDir: given, checkpointsNamed: false };
}

type NewestCheckpoint = ReturnType<CheckpointStore['newestValid']>;

function newestCheckpoint(runDir: string): NewestCheckpoint {
  return new CheckpointStore(runDir, 0, CHECKPOINT_FILES).newestValid();
}

function foundOrRefused(given: string, run: RunReference, { found, skipped }: NewestCheckpoint): SavedModelLocation {
  if (found !== undefined) {
    return { dir: found.dir, chosen: `the newest checkpoint that verifies (step ${found.step})${skipped.map((s) => `; passed over ${path.basename(s.dir)}: ${s.reason}`).join('')}` };
  }
  const why = skipped.length === 0 ? 'there are none' : skipped.map((s) => `${path.basename(s.dir)}: ${s.reason}`).join('; ');
  throw new ModelError(`${given}: no checkpoint that verifies in ${path.join(run.runDir, 'checkpoints')} (${why})`);
}

function modifiedMs(file: string): number {
  return fs.statSync(file).mtimeMs;
}
