import {
  AccessDeniedError,
  ConnectorSecretsError,
  ProviderError,
  ProviderUnavailableError,
  SecretNotFoundError,
  isConnectorSecretsError,
} from '../errors.js';
import { AzureApiError } from './AzureApiError.js';

const NETWORK = /^(E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|PIPE|TIMEDOUT|AI_AGAIN|NOTFOUND|PROTO)|REQUEST_SEND_ERROR|ETIMEDOUT|AbortError|TimeoutError)$/;

/** True when Azure refused the request's credentials (401 after the SDK's own challenge retry). */
export function isUnauthorized(err: unknown): boolean {
  return (err as { statusCode?: unknown } | null)?.statusCode === 401;
}

/**
 * An Azure SDK error (after the SDK's own retries, which honour `Retry-After`) as one of ours.
 * Azure's message never reaches our message or cause (see {@link AzureApiError}).
 *
 * - 404 `SecretNotFound` → `SECRET_NOT_FOUND`;
 * - 403 (`ForbiddenByRbac`, `AccessDenied`, a disabled secret) and 401 → `ACCESS_DENIED`,
 *   naming the inner code;
 * - 429 `Throttled`, 5xx and network errors → `PROVIDER_UNAVAILABLE`;
 * - anything else → `PROVIDER_ERROR`.
 */
export function toSecretsError(err: unknown, ids: { ref?: string; provider: string }, service = 'Azure Key Vault'): ConnectorSecretsError {
  if (isConnectorSecretsError(err)) return err;
  const api = AzureApiError.from(err);
  const options = { ...ids, cause: api };
  const what = `${api.azureCode}${api.innerCode === undefined ? '' : `/${api.innerCode}`}`;
  const status = api.status;
  if (status === 404) return new SecretNotFoundError(`${service} has no such secret or version (${what})`, options);
  if (status === 403) {
    const why = api.innerCode === 'SecretDisabled' ? 'the secret version is disabled' : 'the caller is not allowed to do this';
    return new AccessDeniedError(`${service} denied access: ${why} (${what})`, options);
  }
  if (status === 401) return new AccessDeniedError(`${service} refused the credentials, also after a token refresh (${what})`, options);
  if (status === 429 || (status !== undefined && status >= 500) || (status === undefined && NETWORK.test(api.azureCode))) {
    return new ProviderUnavailableError(`${service} is unavailable (${what}${status === undefined ? '' : `, HTTP ${status}`})`, { ...options, throttled: status === 429 });
  }
  return new ProviderError(`${service} refused the request (${what}${status === undefined ? '' : `, HTTP ${status}`})`, options);
}
