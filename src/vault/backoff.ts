import type { RetryOptions } from '../retry.js';

/**
 * Retry settings of a Vault provider (see {@link RetryOptions}): a `Retry-After` header on a
 * retried answer (429 from a rate limit quota, 503 from a proxy) sets the least wait.
 *
 * @example
 * ```ts
 * fromVault({ retry: { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 30_000 } });
 * ```
 */
export type VaultRetryOptions = RetryOptions;
