/**
 * The signals that ask a gradfleet process to stop cleanly: Ctrl-C, SIGTERM
 * (`kill`, a job scheduler) and SIGHUP (its terminal closed or its ssh
 * session dropped): torchrun's agent turns these and SIGQUIT into a clean
 * shutdown; SIGQUIT (Ctrl-\) is left to end a process at once.
 * The first runs the handler (the step in flight ends, the checkpoint hint
 * is printed, the run directory is given up); a second one gets the
 * signal's default action, so a Ctrl-C pressed twice still ends a process
 * that hangs in its shutdown.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs `handler` at the first stop signal; returns the removal of the handler. */
export function onStopSignal(handler: () => void): () => void {
  const remove = () => {
    for (const s of STOP_SIGNALS) process.off(s, fire);
  };
  const fire = () => {
    remove();
    handler();
  };
  for (const s of STOP_SIGNALS) process.on(s, fire);
  return remove;
}
