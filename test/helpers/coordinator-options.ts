import type { CoordinatorOptions } from '../../coordinator/coordinator';
import { compileCoordinatorOptions } from '../../coordinator/coordinator-options';
import { COORDINATOR_OPTIONS, TRAINING_OPTIONS } from '../../shared/config/option-table';
import { resolveOptions } from '../../shared/config/resolve-options';

/** Coordinator options as the CLI would build them from these flags (camelCase keys), with no config file or environment. */
export function coordinatorOptionsFor(flags: Record<string, string | boolean>): CoordinatorOptions {
  return compileCoordinatorOptions(resolveOptions([...TRAINING_OPTIONS, ...COORDINATOR_OPTIONS], { flags, env: {} }));
}
