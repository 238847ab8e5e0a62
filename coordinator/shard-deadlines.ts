/**
 * How long a worker may take over its shards before it is taken for dead:
 * the deadline after which a shard goes to another worker, and the silence
 * the heartbeat monitor allows a worker that is computing.
 *
 * A deadline scales with the run's median time per sample, so a run of
 * large shards is not cut short by a fixed limit, with a floor so that small
 * shards are not cut by scheduling noise. Before any shard has finished
 * there is nothing to scale by: the first deadline is a generous guess (the
 * first pass also warms up; a GPU backend compiles its kernels then), and it
 * doubles at each miss, so workers slower than the guess get through on the
 * next round.
 */
import { median } from '../shared/median';

export interface ShardDeadlineOptions {
  /** A shard may take this multiple of its median expected time (per sample). */
  factor: number;
  /** ... but never less than this. */
  minMs: number;
  /** The deadline before any shard has finished. */
  firstMs: number;
}

/** How many recent shards the median time per sample is taken over. */
const WINDOW = 50;

export class ShardDeadlines {
  private readonly recentMsPerSample: number[] = [];
  private unmeasuredMs: number;

  constructor(private readonly options: ShardDeadlineOptions) {
    this.unmeasuredMs = Math.max(options.minMs, options.firstMs);
  }

  /** A training shard finished (validation is forward-only: faster per sample, it would flatter the deadlines). */
  record(computeMs: number, samples: number): void {
    this.recentMsPerSample.push(computeMs / Math.max(1, samples));
    if (this.recentMsPerSample.length > WINDOW) this.recentMsPerSample.shift();
  }

  /** The deadline for a shard sent to a worker that then holds `samples` samples (it computes them one after another). */
  forSamples(samples: number): number {
    if (this.recentMsPerSample.length === 0) return this.unmeasuredMs;
    return Math.max(this.options.minMs, Math.round(this.options.factor * median(this.recentMsPerSample) * samples));
  }

  /** A shard missed deadline `ms`. With nothing measured that deadline was a guess: returns the next one, doubled. */
  missed(ms: number): number | undefined {
    if (this.recentMsPerSample.length > 0) return undefined;
    this.unmeasuredMs = 2 * ms;
    return this.unmeasuredMs;
  }

  /**
   * How much longer than the heartbeat timeout a worker holding `samples`
   * samples may stay silent: it computes on the thread that would send its
   * heartbeats, so it says nothing until its shards are done. Twice what
   * they should take at its measured `samplesPerSecond`; before it is
   * measured (0), their deadline. A worker holding nothing gets nothing.
   */
  silenceAllowanceMs(samples: number, samplesPerSecond: number): number {
    if (samples === 0) return 0;
    return samplesPerSecond > 0 ? Math.round((2000 * samples) / samplesPerSecond) : this.forSamples(samples);
  }
}
