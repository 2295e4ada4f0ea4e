import type { RetryOptions } from '../retry.js';

/**
 * Retry settings of the Google Cloud calls (see {@link RetryOptions}).
 *
 * @example
 * ```ts
 * fromGcpSecretManager({ retry: { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 30_000 } });
 * ```
 */
export type GcpRetryOptions = RetryOptions;
