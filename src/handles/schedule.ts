/** When a credential is refreshed within its lifetime. */
export interface RefreshPolicy {
  /** Earliest refresh point, as a fraction of the lifetime. */
  readonly minFraction: number;
  /** Latest refresh point, as a fraction of the lifetime. */
  readonly maxFraction: number;
  /** The refresh happens no later than this long before expiry (shrunk for short lifetimes). */
  readonly refreshWindowMs: number;
}

/**
 * The next refresh time of a credential issued at `issuedAt` expiring at `expiresAt`: a
 * uniformly random point between `minFraction` and `maxFraction` of its lifetime, never later
 * than `expiresAt − window`, where the window shrinks to a quarter of short lifetimes. A
 * provider's `refreshAfter` hint wins when it is earlier than expiry.
 */
export function nextRefreshAt(
  issuedAt: number,
  expiresAt: number,
  policy: RefreshPolicy,
  random: () => number,
  refreshAfter?: number,
): number {
  const lifetime = Math.max(0, expiresAt - issuedAt);
  const window = Math.min(policy.refreshWindowMs, lifetime / 4);
  if (refreshAfter !== undefined && refreshAfter < expiresAt) return Math.min(refreshAfter, expiresAt - window);
  const fraction = policy.minFraction + random() * (policy.maxFraction - policy.minFraction);
  return Math.round(Math.min(issuedAt + lifetime * fraction, expiresAt - window));
}

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base·2^attempt)). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
}
