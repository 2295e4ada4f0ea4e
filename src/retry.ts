import { ConfigError } from './errors.js';
import { checkTimerMs } from './handles/clock.js';

/**
 * Retry settings of a provider's calls (Vault, Google Cloud): exponential backoff with full
 * jitter, inside a deadline. A `Retry-After` header on a retried answer sets the least wait. The
 * caller awaits every wait, so each keeps the process alive. Every duration is at most
 * 2^31 - 1 ms (the longest timer Node runs); a larger one is a ConfigError.
 *
 * @example
 * ```ts
 * fromVault({ retry: { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 30_000 } });
 * ```
 */
export interface RetryOptions {
  /**
   * Attempts per call, the first included. `1` turns retries off.
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * The backoff cap before the first retry; it doubles per retry.
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * The largest backoff cap.
   * @default 2_000
   */
  readonly maxDelayMs?: number;
  /**
   * The whole call, every attempt (its body included) and wait, ends by this many ms after it
   * started; no retry starts when its wait, the backoff or the `Retry-After` asked for, would
   * cross the deadline: the call fails at once instead.
   * @default 15_000
   */
  readonly deadlineMs?: number;
}

/** Retry settings with defaults applied. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly deadlineMs: number;
}

/** Applies defaults and checks the numbers. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = {
    maxAttempts: options.maxAttempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 2_000,
    deadlineMs: options.deadlineMs ?? 15_000,
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new ConfigError('retry.maxAttempts must be an integer >= 1');
  // Each becomes a timer delay (a wait, an attempt's timeout): Node would cut one above 2^31 - 1 ms to 1 ms.
  for (const k of ['baseDelayMs', 'maxDelayMs', 'deadlineMs'] as const) checkTimerMs(`retry.${k}`, policy[k]);
  return policy;
}

/**
 * The wait before retry number `retry` (1-based): full jitter, a uniform pick in
 * `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}
