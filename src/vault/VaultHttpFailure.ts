import {
  AccessDeniedError,
  ConnectorSecretsError,
  ProviderError,
  ProviderUnavailableError,
  SecretNotFoundError,
} from '../errors.js';
import { VaultApiError } from './VaultApiError.js';

/**
 * Internal: Vault answered with an HTTP error that is not retried (4xx other than 412/429), or
 * a retryable one after the retries ran out. Callers look at `status` and `body` (KV v2 answers
 * 404 with metadata for deleted versions), then turn it into a connector-secrets error with
 * {@link toSecretsError}. Never leaves the vault module.
 */
export class VaultHttpFailure extends Error {
  override name = 'VaultHttpFailure' as const;
  constructor(
    readonly status: number,
    /** The parsed response body (an `errors` body or, for KV v2 deletions, an envelope). */
    readonly body: unknown,
    /** The scrubbed, loggable detail. */
    readonly api: VaultApiError,
  ) {
    super(api.message);
  }

  /** A 403 whose errors say `permission denied` (also in the multierror form). */
  get permissionDenied(): boolean {
    return this.status === 403 && (this.api.errors.length === 0 || this.api.errors.some((e) => e.includes('permission denied')));
  }
}

/** Whether an HTTP status is worth retrying: 412 (eventual consistency), 429/472/473 (standby, throttled), 5xx. */
export function retryableStatus(status: number): boolean {
  return status === 412 || status === 429 || status === 472 || status === 473 || status >= 500;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

/** Whether a network error code is a TLS verification or handshake failure (never retried). */
export function isTlsCode(code: string | undefined): boolean {
  return code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO');
}

/** Identifies the ref and provider an error concerns. */
export interface ErrorIds {
  readonly ref?: string | undefined;
  readonly provider: string;
}

/**
 * Maps a Vault failure to the error that steers the chain: 404 → SECRET_NOT_FOUND,
 * 403 → ACCESS_DENIED, 400 "unknown role" → SECRET_NOT_FOUND, other 4xx → PROVIDER_ERROR,
 * 412/429/5xx and network failures → PROVIDER_UNAVAILABLE (after the retries), TLS → PROVIDER_ERROR.
 * Our own errors pass through.
 */
export function toSecretsError(err: unknown, ids: ErrorIds): ConnectorSecretsError {
  if (err instanceof ConnectorSecretsError) return err;
  const opts = { ref: ids.ref, provider: ids.provider };
  if (err instanceof VaultHttpFailure) {
    const { status, api } = err;
    const detail = api.errors.length > 0 ? `: ${api.errors.join('; ')}` : '';
    const where = `${api.method} ${api.path}`;
    if (status === 404) return new SecretNotFoundError(`Vault has nothing at ${where} (404)`, { ...opts, cause: api });
    if (status === 403 || status === 401) return new AccessDeniedError(`Vault refused ${where} (${status})${detail}`, { ...opts, cause: api });
    if (status === 400 && api.errors.some((e) => /unknown role|role .*not found|could not be found/i.test(e))) {
      return new SecretNotFoundError(`Vault has no such role (${where})${detail}`, { ...opts, cause: api });
    }
    if (retryableStatus(status)) {
      return new ProviderUnavailableError(`Vault is unavailable: ${where} answered ${status} after ${api.attempts} attempt(s)${detail}`, {
        ...opts,
        cause: api,
        throttled: status === 429,
      });
    }
    return new ProviderError(`Vault rejected ${where} (${status})${detail}`, { ...opts, cause: api });
  }
  if (err instanceof VaultApiError) {
    if (isTlsCode(err.code)) return new ProviderError(`TLS with Vault failed (${err.code}) on ${err.method} ${err.path}`, { ...opts, cause: err });
    return new ProviderUnavailableError(`Vault is unreachable: ${err.method} ${err.path} failed with ${err.code ?? 'no response'} after ${err.attempts} attempt(s)`, {
      ...opts,
      cause: err,
    });
  }
  const name = err instanceof Error ? err.name : typeof err;
  return new ProviderError(`the Vault provider failed with ${name}`, { ...opts, cause: err });
}
