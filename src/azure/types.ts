import type { CredentialHandle } from '../handles/CredentialHandle.js';

/**
 * An access token as `@azure/core-auth` shapes it, declared here so the core needs no Azure types.
 *
 * @example
 * ```ts
 * const token: AzureAccessTokenValue = { token: 'eyJ…', expiresOnTimestamp: Date.now() + 3_600_000, tokenType: 'Bearer' };
 * ```
 */
export interface AzureAccessTokenValue {
  /** The bearer token. */
  readonly token: string;
  /** Epoch ms when it stops working. */
  readonly expiresOnTimestamp: number;
  /** Epoch ms after which the holder should ask for a new one. */
  readonly refreshAfterTimestamp?: number;
  /** `Bearer` (or `pop`). */
  readonly tokenType?: 'Bearer' | 'pop';
}

/**
 * Anything with `getToken`, as every `@azure/identity` credential and Azure SDK client takes it
 * (`TokenCredential` of `@azure/core-auth`, structurally).
 *
 * @example
 * ```ts
 * const credential: AzureTokenCredential = new ClientCertificateCredential(tenantId, clientId, { certificate: pem });
 * ```
 */
export interface AzureTokenCredential {
  /** A token for the scopes, or `null` when the credential has none. */
  getToken(scopes: string | string[], options?: object): Promise<AzureAccessTokenValue | null>;
}

/**
 * A {@link CredentialHandle} of an Entra ID access token (the token text), refreshed ahead of
 * expiry with jitter, that any Azure SDK client can use through {@link AzureAccessToken.toTokenCredential}.
 *
 * @example
 * ```ts
 * const token = azureAccessToken({ scopes: ['https://vault.azure.net/.default'], credential });
 * const client = new SecretClient(vaultUrl, token.toTokenCredential());
 * ```
 */
export interface AzureAccessToken extends CredentialHandle<string> {
  /** The scopes every token of this handle is for. */
  readonly scopes: readonly string[];
  /**
   * A `TokenCredential` for any Azure SDK client. Each `getToken` returns the handle's current
   * token, so every client given it shares one refreshed token; a request for other scopes is
   * refused (a handle holds one audience).
   */
  toTokenCredential(): AzureTokenCredential;
}

/** True for a handle made by `azureAccessToken()` (or anything shaped like one). */
export function isAzureAccessToken(value: unknown): value is AzureAccessToken {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AzureAccessToken).toTokenCredential === 'function' &&
    typeof (value as AzureAccessToken).refresh === 'function'
  );
}
