/**
 * The signals that ask a gradfleet process to stop cleanly: Ctrl-C, SIGTERM
 * (`kill`, a job scheduler) and SIGHUP (its terminal closed or its ssh
 * session dropped): torchrun's agent turns these and SIGQUIT into a clean
 * shutdown; SIGQUIT (Ctrl-\) is left to end a process at once.
 * The first runs the handler (the step in flight ends, the checkpoint hint
 * is printed, the run directory is given up). The same signal again gets its
 * default action, so a Ctrl-C pressed twice ends a process that hangs in
 * its shutdown; another one meanwhile is absorbed (`local`'s workers get
 * the terminal's Ctrl-C and then `local`'s SIGTERM, and still leave cleanly).
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs `handler` at the first of `signals`; returns the removal of every listener this set up. */
export function onStopSignal(handler: () => void, signals: readonly NodeJS.Signals[] = STOP_SIGNALS): () => void {
  let fired = false;
  const fire = (signal: NodeJS.Signals) => {
    process.off(signal, fire);
    if (fired) return;
    fired = true;
    handler();
  };
  for (const s of signals) process.on(s, fire);
  return () => {
    for (const s of signals) process.off(s, fire);
  };
}

/**
 * The stop signals of `gradfleet worker`. One that `gradfleet local` started
 * (it has local's IPC channel) shares its terminal, so Ctrl-C
 * reaches it as well as local; left to it, the worker would leave at once,
 * and the coordinator would report it lost and pause the run before local
 * stops it. It ignores SIGINT and leaves at local's SIGTERM, after the
 * coordinator has stopped; should local die first, onParentGone stops it.
 */
export function onWorkerStopSignal(handler: () => void): void {
  if (process.channel === undefined) {
    onStopSignal(handler);
    return;
  }
  process.on('SIGINT', () => undefined);
  onStopSignal(handler, STOP_SIGNALS.filter((s) => s !== 'SIGINT'));
}

/**
 * Starts something with the stop signals already heard, so that Ctrl-C while
 * it starts (a dataset loading) does not end the process by default, leaving
 * its run.lock behind: `stop` runs once it is up. Listening ends with a
 * failed start, or at `stopListening`.
 */
export async function startStoppable<T>(start: () => Promise<T>, stop: (started: T) => void): Promise<{ started: T; stopListening: () => void }> {
  let started: T | undefined;
  let asked = false;
  const stopListening = onStopSignal(() => {
    if (started === undefined) asked = true;
    else stop(started);
  });
  try {
    started = await start();
  } catch (err) {
    stopListening();
    throw err;
  }
  if (asked) stop(started);
  return { started, stopListening };
}

/**
 * `gradfleet local` starts its workers with an IPC channel, which closes when
 * local dies without stopping them (SIGKILL, a crash): the worker then stops
 * as at a signal. It would otherwise redial, for ever, a coordinator that
 * died with local. Elsewhere (no channel) this does nothing.
 */
export function onParentGone(handler: () => void): void {
  if (process.channel === undefined) return;
  // The channel must not keep a finished worker alive.
  process.channel.unref();
  process.once('disconnect', handler);
}
