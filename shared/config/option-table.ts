/**
 * Every option of every command, in one table: the CLI flags, the config
 * file keys (camelCase or kebab-case) and the GRADFLEET_* variables are all
 * generated from it, so the three cannot drift apart.
 */
import { BACKEND_NAMES } from '../backends/backend-loader';
import { LR_SCHEDULES } from '../training/lr-schedule';
import { OPTIMIZER_NAMES } from '../training/optimizers';

export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  /** camelCase key in the options object and config files. */
  key: string;
  type: OptionType;
  description: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Exclusive lower bound, for rates that must be positive. */
  above?: number;
}

/** Options every training command takes (baseline, coordinator, local). */
export const TRAINING_OPTIONS: readonly OptionSpec[] = [
  { key: 'config', type: 'string', description: 'YAML or JSON file with any of these options (flags win)' },
  { key: 'model', type: 'string', default: 'keras-cnn', description: 'preset (mlp, mlp-l2, cnn, keras-cnn, lenet5) or a model.json path' },
  { key: 'dataset', type: 'string', default: 'mnist-sample', description: 'mnist, mnist-sample, idx:DIR or folder:DIR' },
  { key: 'dataDir', type: 'string', default: 'data/mnist', description: "where 'mnist' finds its IDX files" },
  { key: 'imageSize', type: 'int', default: 28, min: 4, max: 1024, description: 'folder datasets: images are resized to this square size' },
  { key: 'channels', type: 'int', default: 1, choices: ['1', '3'], description: 'folder datasets: 1 (grey) or 3 (RGB)' },
  { key: 'epochs', type: 'int', default: 5, min: 1, max: 100_000, description: 'epochs to train' },
  { key: 'maxSteps', type: 'int', default: 0, min: 0, description: 'stop after this many steps in total (0 = no limit)' },
  { key: 'batchSize', type: 'int', default: 64, min: 1, max: 65_536, description: 'global batch size (split across workers)' },
  {
    key: 'microBatch',
    type: 'int',
    default: 0,
    min: 0,
    max: 65_536,
    description: 'deterministic mode: compute gradients N samples at a time and add them in float64, so the weights do not depend on how batches are split across workers (0 = off; gradients then travel as float64)',
  },
  { key: 'optimizer', type: 'string', default: 'adam', choices: OPTIMIZER_NAMES, description: 'optimizer' },
  { key: 'lr', type: 'number', default: 0.001, above: 0, max: 100, description: 'learning rate' },
  { key: 'momentum', type: 'number', default: 0.9, min: 0, max: 0.999999, description: 'momentum (momentum optimizer)' },
  { key: 'lrSchedule', type: 'string', default: 'constant', choices: LR_SCHEDULES, description: 'learning-rate schedule' },
  { key: 'lrDecayRate', type: 'number', default: 0.95, above: 0, max: 1, description: 'exponential: factor per decay period' },
  { key: 'lrDecaySteps', type: 'int', default: 0, min: 0, description: 'exponential: steps per decay period (0 = one epoch)' },
  { key: 'lrStaircase', type: 'boolean', default: false, description: 'exponential: decay in whole periods' },
  { key: 'warmupEpochs', type: 'number', default: 1, min: 0, description: 'warmup: epochs to reach the scaled rate' },
  { key: 'referenceBatch', type: 'int', default: 64, min: 1, description: 'warmup: the batch size that --lr is tuned for' },
  { key: 'l1', type: 'number', min: 0, description: 'L1 penalty on kernels (default: the preset’s)' },
  { key: 'l2', type: 'number', min: 0, description: 'L2 penalty on kernels (default: the preset’s, 1e-4 for mlp-l2)' },
  { key: 'dropout', type: 'number', min: 0, max: 0.99, description: 'dropout rate for presets with dropout (cnn: 0.5)' },
  { key: 'emaDecay', type: 'number', default: 0.999, min: 0, max: 0.999999, description: 'evaluate and save an exponential moving average of the weights, as the TF MNIST tutorials do; 0 = off' },
  { key: 'augment', type: 'boolean', default: false, description: 'random shifts and rotations of training images' },
  { key: 'augmentShift', type: 'number', default: 2, min: 0, max: 64, description: 'augment: maximum shift in pixels' },
  { key: 'augmentRotate', type: 'number', default: 10, min: 0, max: 180, description: 'augment: maximum rotation in degrees' },
  { key: 'validationSplit', type: 'number', default: 0.1, min: 0, max: 0.9, description: 'fraction of the training set held out for validation' },
  { key: 'earlyStopping', type: 'boolean', default: false, description: 'stop when the monitored metric stops improving' },
  { key: 'monitor', type: 'string', default: 'val_loss', choices: ['val_loss', 'val_accuracy', 'loss', 'accuracy'], description: 'early stopping: metric' },
  { key: 'mode', type: 'string', default: 'auto', choices: ['auto', 'min', 'max'], description: 'early stopping: min, max or auto' },
  { key: 'minDelta', type: 'number', default: 0, min: 0, description: 'early stopping: smallest change that counts' },
  { key: 'patience', type: 'int', default: 3, min: 0, description: 'early stopping: epochs without improvement' },
  { key: 'baseline', type: 'number', description: 'early stopping: value the metric must beat' },
  { key: 'restoreBestWeights', type: 'boolean', default: false, description: 'early stopping: end with the best epoch’s weights' },
  { key: 'startFromEpoch', type: 'int', default: 0, min: 0, description: 'early stopping: epochs before monitoring starts' },
  { key: 'checkpointEvery', type: 'int', default: 0, min: 0, description: 'also checkpoint every N steps (checkpoints are always written at epoch ends)' },
  { key: 'keep', type: 'int', default: 3, min: 0, description: 'checkpoints to keep besides best/ (0 keeps all)' },
  { key: 'resume', type: 'string', default: 'none', description: "auto (newest valid checkpoint in the run directory), none, or a checkpoint directory, or another run's directory (its newest valid checkpoint)" },
  { key: 'resumeForce', type: 'boolean', default: false, description: 'resume even if the options differ from the checkpoint’s' },
  { key: 'initFrom', type: 'string', description: 'start from the weights of a saved model: its directory, a checkpoint, or a run directory (its final model)' },
  { key: 'freezeLayers', type: 'int', default: 0, min: 0, description: 'with --init-from: keep the first N layers fixed' },
  { key: 'seed', type: 'int', default: 42, min: 0, max: 2 ** 32 - 1, description: 'seed for batches, splits, initialisation, augmentation' },
  { key: 'backend', type: 'string', default: 'auto', choices: BACKEND_NAMES, description: 'compute backend' },
  { key: 'runDir', type: 'string', description: 'run directory (default: runs/<run-id>)' },
  { key: 'runId', type: 'string', description: "run id (default: <model>-<timestamp>; a run resumed in its own --run-dir keeps its id)" },
  { key: 'logFormat', type: 'string', default: 'human', choices: ['human', 'json'], description: 'log format' },
  { key: 'logLevel', type: 'string', default: 'info', choices: ['error', 'warn', 'info', 'debug'], description: 'log level' },
];

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** How a process proves itself and protects its connection: workers, `status`, and the coordinator alike. */
export const CONNECTION_OPTIONS: readonly OptionSpec[] = [
  { key: 'tokenFile', type: 'string', description: 'file holding the shared cluster token (or set GRADFLEET_TOKEN)' },
  { key: 'tlsCert', type: 'string', description: 'PEM certificate: the coordinator’s server certificate, or a worker’s client certificate (mutual TLS)' },
  { key: 'tlsKey', type: 'string', description: 'PEM private key of --tls-cert' },
  { key: 'tlsCa', type: 'string', description: 'PEM CA: workers verify the coordinator with it; a coordinator given it requires client certificates it signed' },
];

/** Options of the coordinator (and `local`) on top of the training options. */
export const COORDINATOR_OPTIONS: readonly OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  { key: 'insecure', type: 'boolean', default: false, description: 'allow a non-loopback --host without a token (anyone who reaches the port can join)' },
  { key: 'metricsPort', type: 'int', min: 0, max: 65535, description: 'serve the live dashboard at http://HOST:PORT/ and Prometheus metrics at /metrics (0 picks a free port and logs it; off by default)' },
  { key: 'maxJoinsPerSecond', type: 'number', default: 20, above: 0, description: 'worker joins accepted per second (bursts up to twice that)' },
  { key: 'maxDatasetTransfers', type: 'int', default: 4, min: 1, max: 1024, description: 'dataset downloads served at the same time' },
  { key: 'host', type: 'string', default: '127.0.0.1', description: 'address to listen on' },
  { key: 'port', type: 'int', default: 50051, min: 0, max: 65535, description: 'port to listen on (0 picks a free one and prints it)' },
  { key: 'minWorkers', type: 'int', default: 1, min: 1, max: 4096, description: 'pause training while fewer workers are connected' },
  { key: 'maxWorkers', type: 'int', default: 256, min: 1, max: 4096, description: 'refuse workers beyond this many' },
  {
    key: 'compress',
    type: 'string',
    default: 'none',
    choices: ['none', 'fp16', 'bf16', 'topk'],
    description: 'compression on the wire: 16-bit gradients and weight changes (fp16, bf16), or the largest gradient entries with error feedback and fp16 weight changes (topk)',
  },
  { key: 'topkRatio', type: 'number', default: 0.01, above: 0, max: 1, description: '--compress topk: fraction of each gradient tensor sent per step' },
  {
    key: 'gradientParts',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'streamed', 'whole'],
    description:
      'streamed: workers send each layer’s gradient as their backward pass finishes it and the update starts on it at once; whole: one message per shard after the backward pass; auto: streamed, but whole for `local` with as many workers as cores',
  },
  {
    key: 'broadcast',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'together', 'staggered'],
    description:
      'how a step hands out the weights: to every worker at once, or one worker after another as each says it holds them (for links slower than the workers: each computes while the next one’s weights cross); auto: tries both for 10 steps each and keeps the faster, again whenever the number of workers changes',
  },
  { key: 'shardSizing', type: 'string', default: 'throughput', choices: ['throughput', 'equal'], description: 'shard sizes: in proportion to each worker’s measured samples/s, or equal' },
  { key: 'shardDeadlineFactor', type: 'number', default: 5, min: 1, description: 'a shard may take this multiple of the median shard time' },
  { key: 'minShardDeadline', type: 'number', default: 10, above: 0, description: 'seconds a shard may always take before it is reassigned, once shard times are measured' },
  {
    key: 'firstShardDeadline',
    type: 'number',
    default: 120,
    above: 0,
    description: 'seconds a shard may take before any shard has finished (first passes warm up: a GPU backend compiles its kernels); doubled at each miss',
  },
  { key: 'heartbeatTimeout', type: 'number', default: 8, above: 0, description: 'seconds of silence after which a worker is dropped and its shard reassigned; a worker computing a shard gets twice its expected compute time on top' },
];

/** Options of `gradfleet worker`. */
export const WORKER_OPTIONS: readonly OptionSpec[] = [
  { key: 'coordinator', type: 'string', default: '127.0.0.1:50051', description: 'HOST:PORT of the coordinator' },
  { key: 'backend', type: 'string', default: 'auto', choices: BACKEND_NAMES, description: 'compute backend' },
  { key: 'gpu', type: 'int', min: 0, max: 64, description: 'GPU index on multi-GPU hosts (sets CUDA_VISIBLE_DEVICES)' },
  { key: 'dataDir', type: 'string', default: 'data/mnist', description: "where 'mnist' finds its IDX files" },
  { key: 'cacheDir', type: 'string', default: '.gradfleet-cache', description: 'where datasets received from the coordinator are kept' },
  { key: 'name', type: 'string', description: 'a name for this worker in logs and status (default: host name and pid)' },
  { key: 'runId', type: 'string', description: 'only join this run' },
  {
    key: 'maxWait',
    type: 'number',
    above: 0,
    description: 'seconds without a coordinator after which this worker gives up and exits (default: it waits for ever, for a coordinator that is restarted)',
  },
  ...CONNECTION_OPTIONS,
  {
    key: 'simulateComputeMs',
    type: 'int',
    min: 0,
    max: 600_000,
    description: 'benchmarks only: answer each shard after N ms with a fixed small-noise gradient instead of computing (a stand-in for a GPU of known speed)',
  },
  { key: 'logFormat', type: 'string', default: 'human', choices: ['human', 'json'], description: 'log format' },
  { key: 'logLevel', type: 'string', default: 'info', choices: ['error', 'warn', 'info', 'debug'], description: 'log level' },
];
