import { ConfigError } from '../errors.js';

/**
 * Retry settings of a Vault provider: exponential backoff with full jitter, inside a deadline.
 *
 * @example
 * ```ts
 * fromVault({ retry: { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 30_000 } });
 * ```
 */
export interface VaultRetryOptions {
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
   * The whole call, every attempt and wait included, ends by this many ms after it started;
   * no retry starts when its wait would cross the deadline.
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
export function retryPolicy(options: VaultRetryOptions = {}): RetryPolicy {
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

/**
 * The wait before retry number `retry` (1-based): full jitter, a uniform pick in
 * `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}

/**
 * Waits `ms`, or rejects with the signal's reason when it aborts first. A caller awaits this
 * retry pause, so the timer is not unref'd: a script awaiting a retried request must not exit
 * under it (a background renewal's retry delays exit by at most the retry deadline).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
