import { AccessDeniedError, ConfigError, ConnectorSecretsError, ProviderError, ProviderUnavailableError } from '../errors.js';
import { GcpApiError } from './GcpApiError.js';

/**
 * A failure of google-auth-library while minting a token, as a connector-secrets error. The
 * library's own error is not attached: its request config holds the signed assertion or the
 * source token. The cause is a {@link GcpApiError} with the status, the OAuth or google.rpc
 * error code and the endpoint path.
 */
export function mintError(err: unknown, ids: { ref: string; provider: string }, what: string): ConnectorSecretsError {
  if (err instanceof ConnectorSecretsError) return err;
  const e = err as { response?: { status?: unknown; data?: unknown }; config?: { url?: unknown; method?: unknown }; code?: unknown };
  const httpStatus = typeof e.response?.status === 'number' ? e.response.status : 0;
  const data = e.response?.data as { error?: unknown } | undefined;
  const status =
    typeof data?.error === 'string' ? data.error
    : typeof (data?.error as { status?: unknown } | undefined)?.status === 'string' ? (data!.error as { status: string }).status
    : undefined;
  let path = '';
  try {
    path = e.config?.url === undefined ? '' : new URL(String(e.config.url)).pathname;
  } catch {
    path = '';
  }
  const networkCode = httpStatus === 0 && typeof e.code === 'string' ? e.code : undefined;
  if (e.config === undefined && e.response === undefined) {
    // Not an HTTP error: a malformed credential, a missing subject-token file … Its message
    // names files and fields, but may quote the credential file, so only the class is kept.
    return new ConfigError(`${what}: the credentials could not be used (${err instanceof Error ? err.name : 'error'})`, { ...ids });
  }
  const cause = new GcpApiError({
    httpStatus,
    status,
    message: `${what} failed${httpStatus ? ` with HTTP ${httpStatus}` : ''}${status ? ` (${status})` : ''}`,
    networkCode,
    method: typeof e.config?.method === 'string' ? e.config.method : 'POST',
    path,
    attempts: 1,
  });
  if (httpStatus === 0) return new ProviderUnavailableError(`${what}: no answer (${networkCode ?? 'network error'})`, { ...ids, cause });
  if (httpStatus === 429 || httpStatus >= 500) return new ProviderUnavailableError(`${what}: the endpoint is unavailable (HTTP ${httpStatus})`, { ...ids, cause });
  if (httpStatus === 400 || httpStatus === 401 || httpStatus === 403) {
    return new AccessDeniedError(`${what}: refused${status ? ` (${status})` : ''}`, { ...ids, cause });
  }
  return new ProviderError(`${what}: unexpected answer (HTTP ${httpStatus})`, { ...ids, cause });
}
