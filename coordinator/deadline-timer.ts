/**
 * A deadline on others, such as a worker's shard result. A timer that fires
 * more than `lateMs` after it was due means this process did not run
 * meanwhile (stopped, suspended, a long pause), and what the others sent
 * then still waits unread in its sockets: Node runs expired timers before
 * it reads them. Such a deadline moves on by the time it was late, instead
 * of blaming the others for this process's absence (see HeartbeatMonitor).
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    onMissed: () => void,
    ms: number,
    lateMs = 1000,
    now: () => number = Date.now,
  ) {
    const arm = (wait: number) => {
      const due = now() + wait;
      this.timer = setTimeout(() => {
        const late = now() - due;
        if (late > lateMs) arm(late);
        else onMissed();
      }, wait);
      this.timer.unref();
    };
    arm(ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
