import { MODEL_JSON, WEIGHTS_BIN } from '../shared/io/layers-model-files';

/** What every checkpoint of a run holds (ema.bin and best-weights.bin only when the run has them): a manifest that does not list these cannot vouch for it. */
export const CHECKPOINT_FILES = [MODEL_JSON, WEIGHTS_BIN, 'optimizer.json', 'optimizer.bin', 'state.json'];
