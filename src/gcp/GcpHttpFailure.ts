import { AccessDeniedError, ConnectorSecretsError, ProviderError, ProviderUnavailableError, SecretNotFoundError } from '../errors.js';
import { GcpApiError } from './GcpApiError.js';

/**
 * Internal: a Google API call failed (an error status that is not retried, or a retryable one
 * after the retries ran out, or no answer at all). Turned into a connector-secrets error by
 * {@link toSecretsError}; never leaves the gcp module.
 */
export class GcpHttpFailure extends Error {
  override name = 'GcpHttpFailure' as const;
  constructor(readonly api: GcpApiError) {
    super(api.message);
  }

  /** UNAUTHENTICATED: the token was refused (expired, revoked or forged). */
  get unauthenticated(): boolean {
    return this.api.httpStatus === 401;
  }
}

/** Statuses retried with backoff: RESOURCE_EXHAUSTED (429) and every 5xx (UNAVAILABLE, INTERNAL …). */
export function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Identifies the ref and provider an error concerns. */
export interface ErrorIds {
  readonly ref?: string | undefined;
  readonly provider: string;
}

/**
 * A failure as the connector-secrets error that steers the chain: NOT_FOUND and a disabled or
 * destroyed version → SECRET_NOT_FOUND (with the reason); PERMISSION_DENIED and UNAUTHENTICATED
 * (after the one refresh) → ACCESS_DENIED; RESOURCE_EXHAUSTED, 5xx and no answer →
 * PROVIDER_UNAVAILABLE; any other status → PROVIDER_ERROR. Errors of ours pass through.
 */
export function toSecretsError(err: unknown, ids: ErrorIds, what = 'the secret'): ConnectorSecretsError {
  if (err instanceof ConnectorSecretsError) return err;
  if (!(err instanceof GcpHttpFailure)) {
    return new ProviderError('the Google Cloud request failed unexpectedly', { ...ids, cause: err });
  }
  const api = err.api;
  const cause = api;
  if (api.httpStatus === 0) {
    return new ProviderUnavailableError(`Google Cloud did not answer (${api.networkCode ?? 'network error'}) after ${api.attempts} attempt(s)`, { ...ids, cause });
  }
  if (api.httpStatus === 404 || api.status === 'NOT_FOUND') {
    return new SecretNotFoundError(`${what} does not exist or has no versions (NOT_FOUND)`, { ...ids, cause });
  }
  if (api.status === 'FAILED_PRECONDITION') {
    const state = /\bDESTROYED\b/.test(api.message) ? 'destroyed' : /\bDISABLED\b/.test(api.message) ? 'disabled' : undefined;
    return new SecretNotFoundError(
      state === undefined ? `${what} cannot be read now (FAILED_PRECONDITION)` : `the version named is ${state} (FAILED_PRECONDITION)`,
      { ...ids, cause },
    );
  }
  if (api.httpStatus === 401) {
    return new AccessDeniedError('Google Cloud refused the access token (UNAUTHENTICATED), also after one refresh', { ...ids, cause });
  }
  if (api.httpStatus === 403) {
    return new AccessDeniedError(`the principal may not do this (${api.status ?? 'PERMISSION_DENIED'})`, { ...ids, cause });
  }
  if (retryableStatus(api.httpStatus)) {
    return new ProviderUnavailableError(`Google Cloud is unavailable (HTTP ${api.httpStatus}${api.status ? ` ${api.status}` : ''}) after ${api.attempts} attempt(s)`, { ...ids, cause });
  }
  return new ProviderError(`Google Cloud refused the request (HTTP ${api.httpStatus}${api.status ? ` ${api.status}` : ''})`, { ...ids, cause });
}
