import { AccessDeniedError, ConnectorSecretsError, ProviderError, ProviderUnavailableError, isConnectorSecretsError } from '../errors.js';
import { AzureApiError } from './AzureApiError.js';

/** Entra's answers meaning "this identity may not have a token": the caller must act. */
const REFUSED = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_request', 'invalid_scope', 'AuthenticationRequiredError']);

/**
 * A failed token request (an `@azure/identity` error) as one of ours, without Entra's
 * description (it can name the app, the tenant or quote the request):
 * refused credentials → ACCESS_DENIED; a credential that cannot work here
 * (`CredentialUnavailableError`), 429, 5xx and network errors → PROVIDER_UNAVAILABLE; else PROVIDER_ERROR.
 */
export function tokenError(err: unknown, ids: { ref: string; provider: string }): ConnectorSecretsError {
  if (isConnectorSecretsError(err)) return err;
  const name = (err as { name?: unknown } | null)?.name;
  const api = AzureApiError.from(err);
  // AuthenticationRequiredError carries Entra's `error` only inside its message: read, never passed on.
  const message = (err as { message?: unknown } | null)?.message;
  const entra = typeof message === 'string' ? /\b(invalid_client|unauthorized_client|invalid_grant|invalid_request|invalid_scope|temporarily_unavailable)\b/.exec(message)?.[1] : undefined;
  const code = api.azureCode === 'AuthenticationRequiredError' && entra !== undefined ? entra : api.azureCode;
  const options = { ...ids, cause: new AzureApiError({ status: api.status, azureCode: code, innerCode: api.innerCode, requestId: api.requestId }) };
  if (name === 'CredentialUnavailableError') return new ProviderUnavailableError('the Azure credential is not available here (CredentialUnavailableError)', options);
  if (code === 'temporarily_unavailable' || api.status === 429 || (api.status !== undefined && api.status >= 500)) {
    return new ProviderUnavailableError(`Microsoft Entra ID is unavailable (${code}${api.status === undefined ? '' : `, HTTP ${api.status}`})`, { ...options, throttled: api.status === 429 });
  }
  if (REFUSED.has(code) || api.status === 400 || api.status === 401 || api.status === 403) {
    return new AccessDeniedError(`Microsoft Entra ID refused the credential (${code})`, options);
  }
  if (/^E[A-Z]+$|REQUEST_SEND_ERROR/.test(code)) return new ProviderUnavailableError(`Microsoft Entra ID could not be reached (${code})`, options);
  return new ProviderError(`the Azure token request failed (${code})`, options);
}
