import {
  AccessDeniedError,
  ConnectorSecretsError,
  ProviderError,
  ProviderUnavailableError,
  SecretNotFoundError,
  isConnectorSecretsError,
} from '../errors.js';
import { AwsApiError } from './AwsApiError.js';

/** Codes meaning "the caller may not": the chain stops. */
const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'DecryptionFailure',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  'RegionDisabledException',
]);

/** Codes meaning "not now": the chain may try the next provider, a cached value may be served. */
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const NETWORK = /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|PIPE|TIMEDOUT|AI_AGAIN|NOTFOUND|PROTO)$/;

/** True when AWS refused the request because its session credentials expired. */
export function isExpiredToken(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'ExpiredTokenException' || name === 'ExpiredToken';
}

/** True when the error is "not now" (throttling, 5xx, network, timeout). */
function isUnavailable(err: unknown, api: AwsApiError): boolean {
  if (UNAVAILABLE.has(api.awsCode) || NETWORK.test(api.awsCode)) return true;
  if (api.httpStatus !== undefined && api.httpStatus >= 500) return true;
  return (err as { $fault?: unknown } | null)?.$fault === 'server';
}

/**
 * An AWS SDK error (or network failure, after the SDK's own retries) as one of ours. The AWS
 * message never reaches our message or cause (it can quote a signature or a submitted value):
 * the cause is an {@link AwsApiError} with the code, status and request id only.
 *
 * - `ResourceNotFoundException` → `SECRET_NOT_FOUND`; `InvalidRequestException` for a secret
 *   marked for deletion → `SECRET_NOT_FOUND` saying so;
 * - `AccessDeniedException`, `DecryptionFailure`, refused or expired credentials → `ACCESS_DENIED`;
 * - throttling, 5xx, network errors and timeouts → `PROVIDER_UNAVAILABLE`;
 * - anything else → `PROVIDER_ERROR`.
 */
export function toSecretsError(err: unknown, ids: { ref?: string; provider: string }, service = 'AWS Secrets Manager'): ConnectorSecretsError {
  if (isConnectorSecretsError(err)) return err;
  const api = AwsApiError.from(err);
  const options = { ...ids, cause: api };
  const code = api.awsCode;
  if (code === 'ResourceNotFoundException') return new SecretNotFoundError(`${service} has no such secret or version (ResourceNotFoundException)`, options);
  if (code === 'InvalidRequestException' && markedForDeletion(err)) {
    return new SecretNotFoundError(`the secret is marked for deletion in ${service} (InvalidRequestException)`, options);
  }
  if (DENIED.has(code)) {
    const why =
      code === 'DecryptionFailure'
        ? 'the secret cannot be decrypted with its KMS key by this principal'
        : code === 'ExpiredTokenException' || code === 'ExpiredToken'
          ? 'the AWS credentials expired and could not be replaced'
          : code === 'AccessDeniedException' || code === 'AccessDenied'
            ? 'the principal is not allowed to do this'
            : code.startsWith('InvalidIdentityToken') || code.startsWith('IDPRejectedClaim')
              ? 'the web identity token was refused'
            : 'the AWS credentials were refused';
    return new AccessDeniedError(`${service} denied access: ${why} (${code})`, options);
  }
  if (isUnavailable(err, api)) {
    return new ProviderUnavailableError(`${service} is unavailable (${code}${api.httpStatus === undefined ? '' : `, HTTP ${api.httpStatus}`}${api.attempts === undefined ? '' : `, ${api.attempts} attempts`})`, {
      ...options,
      throttled: /Throttl|TooManyRequests|LimitExceeded/.test(code),
    });
  }
  return new ProviderError(`${service} refused the request (${code})`, options);
}

/** The one InvalidRequestException that means "gone": its message is read here, never passed on. */
function markedForDeletion(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /marked for deletion/i.test(message);
}

/** The mapping for a per-secret error of BatchGetSecretValue (`{ ErrorCode, Message }`). */
export function batchErrorToSecretsError(code: string | undefined, message: string | undefined, ids: { ref: string; provider: string }): ConnectorSecretsError {
  return toSecretsError({ name: code ?? 'UnknownError', message, $metadata: { httpStatusCode: 400 } }, ids);
}
