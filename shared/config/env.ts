/**
 * The one module that reads process.env. Options come from GRADFLEET_<KEY>
 * variables (GRADFLEET_BATCH_SIZE for --batch-size); a few more variables
 * are named here so their readers stay testable.
 */
export const ENV_PREFIX = 'GRADFLEET_';

export function envNameFor(flag: string): string {
  return ENV_PREFIX + flag.replace(/-/g, '_').toUpperCase();
}

/** GRADFLEET_* variables as given, keyed by variable name. */
export function gradfleetEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith(ENV_PREFIX) && v !== undefined) out[k] = v;
  return out;
}

/** Whether stdout is an interactive terminal (progress bars) and not CI. */
export function isInteractive(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.stdout.isTTY === true && env.CI === undefined;
}

/** Restricts CUDA to one GPU; must run before a tensorflow-gpu backend loads. */
export function selectGpu(index: number, env: NodeJS.ProcessEnv = process.env): void {
  env.CUDA_VISIBLE_DEVICES = String(index);
}

/**
 * Fault injection for the fault tests: a pause in every checkpoint write,
 * after the data files and before the manifest, so a test can SIGKILL the
 * process in the middle of one. Zero (no pause) unless the variable is set.
 */
export function checkpointPauseMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.GRADFLEET_TEST_CHECKPOINT_PAUSE_MS ?? 0);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** The shared cluster token given in the environment (GRADFLEET_TOKEN), as an alternative to --token-file. */
export function tokenFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.GRADFLEET_TOKEN;
}
