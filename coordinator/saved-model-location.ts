/**
 * What `--checkpoint` of evaluate and predict may name. Besides a directory
 * with model.json in it (a run's model/, a checkpoint, best/), the places a
 * user has at hand, as Keras users hand a run's directory to
 * `tf.train.latest_checkpoint`: a run directory, its checkpoints/, or the
 * `latest` file in there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../shared/errors';
import { MODEL_JSON } from '../shared/io/layers-model-files';
import { CheckpointStore, LATEST, MANIFEST } from './checkpoint-store';
import { CHECKPOINT_FILES } from './run-checkpoint';

export interface SavedModelLocation {
  dir: string;
  /** How `dir` was found, when it is not the path given: for the log. */
  chosen?: string;
}

const FINAL_MODEL = "the run's final model";

export function locateSavedModel(given: string): SavedModelLocation {
  if (!fs.existsSync(given)) throw new ModelError(`${given}: no such file or directory`);
  const isFile = fs.statSync(given).isFile();
  if (isFile && path.basename(given) !== LATEST) throw new ModelError(`${given}: a file; give a directory with ${MODEL_JSON}, a run directory or its checkpoints/`);
  if (!isFile && fs.existsSync(path.join(given, MODEL_JSON))) return { dir: given };
  const checkpointsNamed = isFile || (path.basename(path.resolve(given)) === 'checkpoints' && !fs.existsSync(path.join(given, 'checkpoints')));
  const runDir = isFile ? path.dirname(path.dirname(given)) : checkpointsNamed ? path.dirname(given) : given;
  const { found, skipped } = new CheckpointStore(runDir, 0, CHECKPOINT_FILES).newestValid();
  const newest = found && { dir: found.dir, chosen: `the newest checkpoint that verifies (step ${found.step})${skipped.map((s) => `; passed over ${path.basename(s.dir)}: ${s.reason}`).join('')}` };
  const finalModel = path.join(runDir, 'model');
  if (!checkpointsNamed && fs.existsSync(path.join(finalModel, MODEL_JSON))) {
    // A run resumed past its end has checkpoints newer than the model/ it wrote then.
    if (newest === undefined || modifiedMs(path.join(finalModel, MODEL_JSON)) >= modifiedMs(path.join(newest.dir, MANIFEST))) return { dir: finalModel, chosen: FINAL_MODEL };
  }
  if (newest !== undefined) return newest;
  if (!checkpointsNamed && !fs.existsSync(path.join(runDir, 'checkpoints'))) throw new ModelError(`${given}: no ${MODEL_JSON} here, and no model/ or checkpoints/ of a run`);
  const why = skipped.length === 0 ? 'there are none' : skipped.map((s) => `${path.basename(s.dir)}: ${s.reason}`).join('; ');
  throw new ModelError(`${given}: no checkpoint that verifies (${why})`);
}

function modifiedMs(file: string): number {
  return fs.statSync(file).mtimeMs;
}
