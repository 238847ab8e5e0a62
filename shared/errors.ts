/**
 * The error family. A `UserError` is something the person at the keyboard
 * caused (a bad flag, a missing file): the CLI prints its message on one line
 * and exits non-zero. Anything else is a bug and keeps its stack for the logs.
 */
export class GradfleetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Caused by input the user controls: flags, config, data files. */
export class UserError extends GradfleetError {}

/** A flag, config key or environment variable has a value we cannot use. */
export class ConfigError extends UserError {}

/** A data file is missing, truncated, corrupt or does not match its siblings. */
export class DataFormatError extends UserError {}

/** A model topology or checkpoint cannot be used. */
export class ModelError extends UserError {}

/** A network operation failed where the user can fix the cause (offline, wrong mirror). */
export class NetworkError extends UserError {}

/** A requested compute backend could not be loaded. */
export class BackendUnavailableError extends UserError {}

/** Training was stopped on purpose (Ctrl-C, SIGTERM): not a failure of the program. */
export class InterruptedError extends GradfleetError {}

/** The run cannot go on (its worker processes keep dying, its disk is full): neither a bug nor bad input. */
export class RunFailedError extends GradfleetError {}

/** An error from the operating system (a full disk, a file that cannot be opened), as Node reports it. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** The model's gradients turned NaN or infinite: continuing with the same options would diverge again. */
export class DivergedError extends RunFailedError {}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** One line that names the problem: the message plus the first cause's message. */
export function oneLineMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.replace(/\s*\n\s*/g, ' ');
}
