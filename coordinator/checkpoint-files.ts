import { MODEL_JSON, WEIGHTS_BIN } from '../shared/io/layers-model-files';

/** The loop's position, history and identity checks, which only a checkpoint (not a saved model) holds. */
export const LOOP_STATE = 'state.json';

/** What every checkpoint of a run holds (ema.bin and best-weights.bin only when the run has them): a manifest that does not list these cannot vouch for it. */
export const CHECKPOINT_FILES = [MODEL_JSON, WEIGHTS_BIN, 'optimizer.json', 'optimizer.bin', LOOP_STATE];
