import type { CoordinatorHandle } from '../../coordinator/coordinator';

/**
 * Stops a coordinator a test started and waits for its run to settle. A run
 * stopped before it ends rejects its result (InterruptedError), which is
 * what the test asked for, not a failure.
 */
export async function stopCoordinator(coordinator: CoordinatorHandle, reason = 'test over'): Promise<void> {
  const settled = coordinator.result.then(
    () => undefined,
    () => undefined,
  );
  await coordinator.stop(reason);
  await settled;
}
