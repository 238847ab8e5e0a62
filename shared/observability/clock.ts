/**
 * Wall-clock milliseconds since the Unix epoch with sub-millisecond
 * resolution (Date.now() has whole milliseconds, too coarse for phases of
 * a few hundred microseconds). Different machines' clocks disagree; the
 * coordinator estimates each worker's offset before comparing them.
 */
import { performance } from 'node:perf_hooks';

export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A worker's clock at each point of its work on one shard (clockMs() there); 0 where unknown. */
export interface ShardTimes {
  /** The weights this shard uses began to arrive, or their last part when they came in parts (0: they came for an earlier shard). */
  weightsReceived: number;
  assigned: number;
  computeStart: number;
  computeEnd: number;
  /** Encoded and handed to the transport. */
  sent: number;
}
