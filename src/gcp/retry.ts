import { ConfigError } from '../errors.js';

/**
 * Retry settings of the Google Cloud calls: exponential backoff with full jitter, inside a deadline.
 *
 * @example
 * ```ts
 * fromGcpSecretManager({ retry: { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 30_000 } });
 * ```
 */
export interface GcpRetryOptions {
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
   * The whole call, attempts and waits included, ends by this many ms after it started.
   * @default 15_000
   */
  readonly deadlineMs?: number;
}

/** Retry settings with defaults applied. */
export type RetryPolicy = Required<GcpRetryOptions>;

/** Applies defaults and checks the numbers. */
export function retryPolicy(options: GcpRetryOptions = {}): RetryPolicy {
  const policy = {
    maxAttempts: options.maxAttempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 2_000,
    deadlineMs: options.deadlineMs ?? 15_000,
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new ConfigError('retry.maxAttempts must be an integer >= 1');
  for (const k of ['baseDelayMs', 'maxDelayMs', 'deadlineMs'] as const) {
    if (!(policy[k] >= 0) || !Number.isFinite(policy[k])) throw new ConfigError(`retry.${k} must be a non-negative number of milliseconds`);
  }
  return policy;
}

/** The wait before retry number `retry` (1-based): a uniform pick in `[0, min(max, base·2^(retry-1)))`. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1)));
}
