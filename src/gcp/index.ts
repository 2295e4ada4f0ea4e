// connector-secrets/gcp: Google Cloud Secret Manager and auto-refreshing Google access tokens.
// google-auth-library, an optional peer dependency, is loaded on the first request or token,
// never by importing this module.
export { fromGcpSecretManager } from './fromGcpSecretManager.js';
export type { FromGcpSecretManagerInit } from './fromGcpSecretManager.js';
export { gcpAccessToken, CLOUD_PLATFORM_SCOPE } from './gcpAccessToken.js';
export type { GcpAccessToken, GcpAccessTokenInit, GcpImpersonation, GcpEndpoints } from './gcpAccessToken.js';
export type { TokenHandleOptions } from '../handles/tokenHandleOptions.js';
export type { GcpCredentialsJson } from './credentials.js';
export type { GcpRetryOptions } from './retry.js';
export { GcpApiError } from './GcpApiError.js';
