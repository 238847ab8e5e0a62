/** Coordinator options from resolved option values (flags, config file, environment): the CLI and the tests build them the same way. */
import type { OptionValues } from '../shared/config/resolve-options';
import { compileTrainingOptions } from '../shared/config/training-options';
import { compileConnectionSecurity } from '../shared/security/connection-security';
import type { CoordinatorOptions } from './coordinator';

export function compileCoordinatorOptions(v: OptionValues): CoordinatorOptions {
  return {
    ...compileTrainingOptions(v),
    host: v.host as string,
    port: v.port as number,
    minWorkers: v.minWorkers as number,
    maxWorkers: v.maxWorkers as number,
    compress: v.compress as CoordinatorOptions['compress'],
    topkRatio: v.topkRatio as number,
    shardDeadlineFactor: v.shardDeadlineFactor as number,
    gradientParts: v.gradientParts as CoordinatorOptions['gradientParts'],
    shardSizing: v.shardSizing as CoordinatorOptions['shardSizing'],
    minShardDeadline: v.minShardDeadline as number,
    heartbeatTimeout: v.heartbeatTimeout as number,
    security: compileConnectionSecurity(v),
    insecure: v.insecure as boolean,
    maxJoinsPerSecond: v.maxJoinsPerSecond as number,
    maxDatasetTransfers: v.maxDatasetTransfers as number,
    metricsPort: v.metricsPort as number | undefined,
  };
}
