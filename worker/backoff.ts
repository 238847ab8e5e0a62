/** Exponential backoff with full jitter (as in the AWS architecture blog's "Exponential Backoff And Jitter"). */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, multiplier: 2 };

export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** attempt);
  return Math.round(cap * (0.5 + 0.5 * random()));
}
