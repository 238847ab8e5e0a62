/**
 * The waiting of a staggered step (--broadcast staggered): which weights
 * version each worker has said it holds, and the one turn the step is
 * waiting on. The scheduler sends a worker its weights and shard, waits
 * here until that worker holds the weights, then sends the next one.
 *
 * A turn ends on the worker's word, when it leaves, or after a timeout, so
 * a worker that never answers (an old build, a lost message) slows each
 * step by little and stops nothing.
 */
import type { Logger } from '../shared/logging';
import { median } from '../shared/median';
import { clockMs } from '../shared/observability/clock';
import { DeadlineTimer } from './deadline-timer';

/** What a worker has said of its weights. */
interface WeightsAcks {
  /** The newest training weights version it said it holds. */
  version: number;
  /** Its last few waits, from its weights going out to its word that it holds them. */
  recentMs: number[];
  /** Turns passed on a timeout since it last said anything of its weights. */
  unanswered: number;
  warned: boolean;
}

const RECENT_ACKS = 10;
const FIRST_TURN_TIMEOUT_MS = 1000;
const MIN_TURN_TIMEOUT_MS = 20;
/**
 * A worker that answers late (a busy host) is only slow: its turns pass at
 * debug level. One that lets this many pass in a row without a word at all
 * may never answer, which is worth a warning.
 */
const UNANSWERED_TURNS_WARNED = 3;

export class WeightsTurns {
  private turn: { workerId: string; version: number; sentAt: number; release: () => void } | undefined;
  private readonly acks = new Map<string, WeightsAcks>();

  constructor(
    private readonly log: Logger,
    /** The shortest wait once some worker has answered. */
    private readonly minTimeoutMs = MIN_TURN_TIMEOUT_MS,
  ) {}

  /** A worker says it holds training weights `version`: the turn waiting on it ends. */
  loaded(workerId: string, version: number): void {
    const acks = this.acksOf(workerId);
    acks.unanswered = 0;
    acks.version = Math.max(version, acks.version);
    const turn = this.turn;
    if (turn === undefined || turn.workerId !== workerId || version < turn.version) return;
    acks.recentMs = [...acks.recentMs.slice(1 - RECENT_ACKS), clockMs() - turn.sentAt];
    turn.release();
  }

  /** Resolves when the worker says it holds `version` (at once if it has), leaves, or after a few times its usual wait. */
  heldBy(workerId: string, version: number): Promise<void> {
    const acks = this.acksOf(workerId);
    if (acks.version >= version) return Promise.resolve();
    return new Promise((resolve) => {
      const release = () => {
        timer.clear();
        if (this.turn?.release === release) this.turn = undefined;
        resolve();
      };
      const ms = this.timeoutMs(acks);
      const timer = new DeadlineTimer(() => {
        this.log.debug(`worker ${workerId} has not said it holds weights version ${version} after ${ms.toFixed(0)} ms; the next worker gets its weights now`);
        // Once per worker: one that never answers would otherwise warn once a step.
        if (++acks.unanswered === UNANSWERED_TURNS_WARNED && !acks.warned) {
          acks.warned = true;
          this.log.warn(
            `worker ${workerId} has not said it holds its weights in ${UNANSWERED_TURNS_WARNED} turns in a row; the next worker gets its weights after ${ms.toFixed(0)} ms at most (an older gradfleet, or lost messages? each turn it lets pass is logged at debug level)`,
          );
        }
        release();
      }, ms);
      this.turn = { workerId, version, sentAt: clockMs(), release };
    });
  }

  /** The worker left: a turn waiting on it passes at once, and what it said is forgotten. */
  left(workerId: string): void {
    this.acks.delete(workerId);
    if (this.turn?.workerId === workerId) this.turn.release();
  }

  /** Ends the turn being waited on, if any (the run is stopping). */
  releaseAll(): void {
    this.turn?.release();
  }

  private acksOf(workerId: string): WeightsAcks {
    let acks = this.acks.get(workerId);
    if (acks === undefined) this.acks.set(workerId, (acks = { version: -1, recentMs: [], unanswered: 0, warned: false }));
    return acks;
  }

  /**
   * Four times the worker's own median wait (a worker on a slower link has
   * a longer one), or the others' before it has answered, or a second before
   * anyone has: a stalled worker delays the rest by little.
   */
  private timeoutMs(acks: WeightsAcks): number {
    const waits = acks.recentMs.length > 0 ? acks.recentMs : [...this.acks.values()].flatMap((a) => a.recentMs);
    if (waits.length === 0) return FIRST_TURN_TIMEOUT_MS;
    return Math.max(this.minTimeoutMs, 4 * median(waits));
  }
}
