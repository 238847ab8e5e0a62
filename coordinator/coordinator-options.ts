/** Coordinator options from resolved option values (flags, config file, environment): the CLI and the tests build them the same way. */
import * as os from 'node:os';
import type { OptionValues } from '../shared/config/resolve-options';
import { compileTrainingOptions } from '../shared/config/training-options';
import { ConfigError } from '../shared/errors';
import { compileConnectionSecurity } from '../shared/security/connection-security';
import type { CoordinatorOptions } from './coordinator';

/**
 * --gradient-parts auto: streamed, unless the workers run on this machine and
 * take every core (`local` with at least as many workers as cores). Then the
 * coordinator's work during their backward passes (receiving parts, early
 * updates) can only take a core from a worker, and costs what it saves
 * (BENCHMARKS.md, "Reading the figures").
 */
export function resolveGradientParts(value: string, localWorkers?: number, cores = os.availableParallelism()): CoordinatorOptions['gradientParts'] {
  if (value === 'streamed' || value === 'whole') return value;
  return localWorkers !== undefined && localWorkers >= cores ? 'whole' : 'streamed';
}

/** `localWorkers`: how many workers `local` starts beside the coordinator. */
export function compileCoordinatorOptions(v: OptionValues, localWorkers?: number): CoordinatorOptions {
  if ((v.minWorkers as number) > (v.maxWorkers as number)) {
    throw new ConfigError(`--min-workers ${v.minWorkers} is above --max-workers ${v.maxWorkers}: training would wait for workers the coordinator turns away`);
  }
  return {
    ...compileTrainingOptions(v),
    host: v.host as string,
    port: v.port as number,
    minWorkers: v.minWorkers as number,
    maxWorkers: v.maxWorkers as number,
    compress: v.compress as CoordinatorOptions['compress'],
    topkRatio: v.topkRatio as number,
    shardDeadlineFactor: v.shardDeadlineFactor as number,
    gradientParts: resolveGradientParts(v.gradientParts as string, localWorkers),
    shardSizing: v.shardSizing as CoordinatorOptions['shardSizing'],
    broadcast: v.broadcast as CoordinatorOptions['broadcast'],
    minShardDeadline: v.minShardDeadline as number,
    firstShardDeadline: v.firstShardDeadline as number,
    heartbeatTimeout: v.heartbeatTimeout as number,
    security: compileConnectionSecurity(v),
    insecure: v.insecure as boolean,
    maxJoinsPerSecond: v.maxJoinsPerSecond as number,
    maxDatasetTransfers: v.maxDatasetTransfers as number,
    metricsPort: v.metricsPort as number | undefined,
  };
}

/**
 * `gradfleet local`: the coordinator listens on loopback for the workers it
 * starts, and waits for all of them before the first step (so shards are
 * balanced from the start) unless --min-workers says fewer will do.
 */
export function compileLocalOptions(v: OptionValues): CoordinatorOptions & { workers: number } {
  const workers = v.workers as number;
  const minWorkers = (v.minWorkers as number | undefined) ?? workers;
  if (minWorkers > workers) throw new ConfigError(`--min-workers ${minWorkers} is above --workers ${workers}: training would wait for workers local never starts`);
  if ((v.maxWorkers as number) < workers) throw new ConfigError(`--max-workers ${v.maxWorkers} is below --workers ${workers}: local would start workers the run turns away`);
  return { ...compileCoordinatorOptions({ ...v, host: '127.0.0.1', insecure: false, minWorkers }, workers), workers };
}
