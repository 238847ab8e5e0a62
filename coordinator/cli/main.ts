#!/usr/bin/env node
/**
 * The `gradfleet` executable: a shell around the library functions. It
 * parses flags, config file and environment into one validated options
 * object, calls the function, and turns user errors into one line and a
 * non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { runBaseline } from '../baseline';
import { startCoordinator } from '../coordinator';
import { compileCoordinatorOptions, compileLocalOptions } from '../coordinator-options';
import { formatPrediction, predictFiles } from '../predict';
import { compileConnectionSecurity, connectionFlags } from '../../shared/security/connection-security';
import { runLocalCluster } from '../local-cluster';
import { formatStatus, queryStatus } from '../status-client';
import { evaluateCheckpoint } from '../evaluate-checkpoint';
import { CONNECTION_OPTIONS, COORDINATOR_OPTIONS, OptionSpec, TRAINING_OPTIONS, WORKER_OPTIONS } from '../../shared/config/option-table';
import { compileTrainingOptions } from '../../shared/config/training-options';
import { fetchFiles, MNIST_MIRRORS } from '../../shared/data/mnist-fetch';
import { loadDataset } from '../../shared/data/dataset-registry';
import { checkCoordinatorAddress } from '../../shared/config/coordinator-address';
import { ConfigError, InterruptedError, isSystemError, isUserError, oneLineMessage, RunFailedError } from '../../shared/errors';
import { onParentGone, onStopSignal, onWorkerStopSignal, startStoppable } from '../../shared/stop-signals';
import { configureLogging, getLogger } from '../../shared/logging';
import { GRADFLEET_VERSION } from '../../shared/version';
import { addTableOptions, rejectExcessArguments, resolveCommandOptions } from './command-options';
import { formatConfusion } from './format';

/** Exit codes: 0 ok, 1 internal error or a failed run, 2 user error (bad flag, file, config), 130 interrupted. */
export const EXIT_USER_ERROR = 2;
export const EXIT_INTERNAL_ERROR = 1;
/** As shells report a process ended by SIGINT. */
export const EXIT_INTERRUPTED = 130;

const DATASET_SPECS = TRAINING_OPTIONS.filter((s) =>
  ['dataset', 'dataDir', 'imageSize', 'channels', 'backend', 'logLevel', 'logFormat', 'config'].includes(s.key),
);

const PREDICT_SPECS = TRAINING_OPTIONS.filter((s) => ['backend', 'logLevel', 'logFormat'].includes(s.key));
const CHECKPOINT_HELP = 'a model or checkpoint directory (with model.json), or a run directory (its final model, else its newest checkpoint), its checkpoints/ or checkpoints/latest';

const CLUSTER_SPECS: readonly OptionSpec[] = [...TRAINING_OPTIONS, ...COORDINATOR_OPTIONS];
const LOCAL_SPECS: readonly OptionSpec[] = [
  // Its own workers dial loopback: no --host, nor --insecure to go with one.
  ...CLUSTER_SPECS.filter((s) => s.key !== 'host' && s.key !== 'insecure').map((s): OptionSpec => {
    if (s.key === 'port') return { ...s, default: 0, description: 'port to listen on (default: a free one, which it prints; give one to query it with gradfleet status)' };
    if (s.key === 'minWorkers') return { ...s, default: undefined, description: 'start training, and go on, with this many of the workers connected (default: all of --workers)' };
    return s;
  }),
  { key: 'workers', type: 'int', default: 2, min: 1, max: 64, description: 'worker processes to start' },
  { key: 'maxRestarts', type: 'int', default: 3, min: 0, max: 1000, description: 'worker processes started again after dying, in all, before the run stops' },
];

/** Loads the worker module only for `gradfleet worker`: the coordinator side never imports it otherwise. */
function workerModule(): typeof import('../../worker/worker') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../worker/worker');
}

function buildProgram(): Command {
  const program = new Command('gradfleet')
    .description('data-parallel TensorFlow.js training across gRPC-connected workers')
    .version(GRADFLEET_VERSION, '-V, --version', 'print the version of gradfleet')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const baseline = program.command('baseline').description('train in one process, no cluster (the reference the cluster matches)');
  addTableOptions(baseline, TRAINING_OPTIONS).action(async () => {
    const o = compileTrainingOptions(resolveCommandOptions(baseline, TRAINING_OPTIONS));
    configureLogging({ level: o.logLevel, format: o.logFormat });
    const stop = new AbortController();
    onStopSignal(() => stop.abort('interrupted'));
    const result = await runBaseline(o, stop.signal);
    process.stdout.write(`${result.summaryPath}\n`);
  });

  const coordinatorCmd = program.command('coordinator').description('serve a training run to workers and drive it');
  addTableOptions(coordinatorCmd, CLUSTER_SPECS).action(async () => {
    const o = compileCoordinatorOptions(resolveCommandOptions(coordinatorCmd, CLUSTER_SPECS));
    configureLogging({ level: o.logLevel, format: o.logFormat });
    let interrupted = false;
    const { started: handle } = await startStoppable(
      () => startCoordinator(o),
      (h) => {
        interrupted = true;
        void h.stop('interrupted');
      },
    );
    if (o.port === 0 && !interrupted) process.stdout.write(`listening on ${o.host}:${handle.port}\n`);
    const result = await handle.result;
    process.stdout.write(`${result.summaryPath}\n`);
  });

  const workerCmd = program.command('worker').description('join a run and compute gradients');
  addTableOptions(workerCmd, WORKER_OPTIONS).action(async () => {
    const v = resolveCommandOptions(workerCmd, WORKER_OPTIONS);
    configureLogging({ level: v.logLevel as 'info', format: v.logFormat as 'human' });
    const worker = workerModule().startWorker({
      coordinator: checkCoordinatorAddress(v.coordinator as string),
      backend: v.backend as 'auto',
      gpu: v.gpu as number | undefined,
      dataDir: v.dataDir as string,
      cacheDir: v.cacheDir as string,
      name: v.name as string | undefined,
      runId: v.runId as string | undefined,
      maxWaitMs: v.maxWait === undefined ? undefined : (v.maxWait as number) * 1000,
      security: compileConnectionSecurity(v),
      simulateComputeMs: v.simulateComputeMs as number | undefined,
    });
    let interrupted = false;
    const leave = () => {
      interrupted = true;
      worker.stop();
    };
    onWorkerStopSignal(leave);
    onParentGone(() => {
      getLogger({ component: 'worker' }).warn('the gradfleet local that started this worker has gone; stopping');
      leave();
    });
    await worker.done;
    // Not a finished run: `local` (as torchrun) starts a worker that ends this way again.
    if (interrupted) throw new InterruptedError('interrupted; this worker has left its run (start it again to rejoin)');
  });

  const localCmd = program.command('local').description('a coordinator and N worker processes on this machine');
  addTableOptions(localCmd, LOCAL_SPECS).action(async () => {
    const v = resolveCommandOptions(localCmd, LOCAL_SPECS);
    const o = compileLocalOptions(v);
    configureLogging({ level: o.logLevel, format: o.logFormat });
    const result = await runLocalCluster({ ...o, workerBackend: o.backend, workerFlags: connectionFlags(v), maxRestarts: v.maxRestarts as number });
    process.stdout.write(`${result.summaryPath}\n`);
  });

  const statusCmd = program
    .command('status')
    .description('live view of a run: step, epoch, metrics, one row per worker')
    .option('--coordinator <host:port>', 'the coordinator', '127.0.0.1:50051')
    .option('--json', 'print the status as JSON');
  addTableOptions(statusCmd, CONNECTION_OPTIONS).action(async () => {
    const v = resolveCommandOptions(statusCmd, CONNECTION_OPTIONS);
    const flags = statusCmd.opts<{ coordinator: string; json?: boolean }>();
    const s = await queryStatus(checkCoordinatorAddress(flags.coordinator), 5000, compileConnectionSecurity(v));
    process.stdout.write(flags.json ? `${JSON.stringify(s)}\n` : `${formatStatus(s)}\n`);
  });

  const evaluateCmd = program
    .command('evaluate')
    .description('loss, accuracy and confusion matrix of a saved model on the test set')
    .requiredOption('--checkpoint <dir>', CHECKPOINT_HELP)
    .option('--json', 'print the result as JSON');
  addTableOptions(evaluateCmd, DATASET_SPECS).action(async () => {
    const v = resolveCommandOptions(evaluateCmd, DATASET_SPECS);
    configureLogging({ level: v.logLevel as 'info', format: v.logFormat as 'human' });
    const flags = evaluateCmd.opts<{ checkpoint: string; json?: boolean; dataset?: string }>();
    const result = await evaluateCheckpoint({
      checkpoint: flags.checkpoint,
      dataset: flags.dataset,
      dataDir: v.dataDir as string,
      imageSize: v.imageSize as number,
      channels: v.channels as 1 | 3,
      backend: v.backend as 'auto',
    });
    if (flags.json) {
      const { predictions: _p, ...rest } = result;
      process.stdout.write(`${JSON.stringify(rest)}\n`);
    } else {
      process.stdout.write(
        `dataset ${result.dataset}: ${result.count} test samples\nloss ${result.loss.toFixed(4)}\naccuracy ${(result.accuracy * 100).toFixed(2)}%\n${formatConfusion(result.confusion)}\n`,
      );
    }
  });

  const predictCmd = program
    .command('predict')
    .description('top class and probabilities of a saved model for image files (any size, colour or grey, dark-on-light or light-on-dark)')
    .requiredOption('--checkpoint <dir>', CHECKPOINT_HELP)
    .argument('<files...>', 'PNG or JPEG images')
    .option('--json', 'print one JSON object per image');
  addTableOptions(predictCmd, PREDICT_SPECS).action(async (files: string[]) => {
    const v = resolveCommandOptions(predictCmd, PREDICT_SPECS);
    configureLogging({ level: v.logLevel as 'info', format: v.logFormat as 'human' });
    const flags = predictCmd.opts<{ checkpoint: string; json?: boolean }>();
    const predictions = await predictFiles({ checkpoint: flags.checkpoint, files, backend: v.backend as 'auto' });
    for (const p of predictions) process.stdout.write(`${flags.json ? JSON.stringify(p) : formatPrediction(p)}\n`);
  });

  const dataset = program.command('dataset').description('download or inspect datasets');
  const fetchCmd = dataset
    .command('fetch')
    .description('download the MNIST IDX files, verify their SHA-256, resume partial downloads')
    .argument('<name>', 'dataset to fetch (mnist)')
    .option('--data-dir <dir>', 'where to put the files', 'data/mnist')
    .option('--mirror <url...>', `mirrors to try in order (default: ${MNIST_MIRRORS.join(' ')})`);
  fetchCmd.action(async (name: string) => {
    configureLogging({ level: 'info' });
    if (name !== 'mnist') throw new ConfigError(`cannot fetch '${name}': only 'mnist' is downloadable`);
    const flags = fetchCmd.opts<{ dataDir: string; mirror?: string[] }>();
    const results = await fetchFiles({ dir: flags.dataDir, mirrors: flags.mirror });
    for (const r of results) process.stdout.write(`${r.name}: ${r.result}\n`);
  });
  const infoCmd = dataset.command('info').description('shape, counts, classes and SHA-256 identity of a dataset');
  addTableOptions(infoCmd, DATASET_SPECS).action(async () => {
    const v = resolveCommandOptions(infoCmd, DATASET_SPECS);
    configureLogging({ level: v.logLevel as 'info' });
    const d = loadDataset({ name: v.dataset as string, dataDir: v.dataDir as string, imageSize: v.imageSize as number, channels: v.channels as 1 | 3 });
    const info = {
      name: d.name,
      source: d.source,
      shape: d.shape,
      classes: d.numClasses,
      train: d.train.count,
      test: d.test.count,
      sha256: d.sha256,
    };
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.hook('preAction', (_, command) => rejectExcessArguments(command, argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed its one-line message already (or help/version, with code 0).
      return err.exitCode === 0 ? 0 : EXIT_USER_ERROR;
    }
    if (err instanceof InterruptedError) {
      process.stderr.write(`gradfleet: stopped: ${err.message}\n`);
      return EXIT_INTERRUPTED;
    }
    if (isUserError(err)) {
      process.stderr.write(`gradfleet: error: ${oneLineMessage(err)}\n`);
      return EXIT_USER_ERROR;
    }
    if (err instanceof RunFailedError || isSystemError(err)) {
      // A run that cannot go on, or the host's problem (a full disk, a failing device): a stack trace would only hide it.
      process.stderr.write(`gradfleet: failed: ${oneLineMessage(err)}\n`);
      return EXIT_INTERNAL_ERROR;
    }
    process.stderr.write(`gradfleet: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT_INTERNAL_ERROR;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
