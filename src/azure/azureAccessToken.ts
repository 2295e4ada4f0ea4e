import { ConfigError, ConnectorSecretsError, SecretExpiredError } from '../errors.js';
import { systemClock } from '../handles/clock.js';
import { createCredentialHandle, type IssuedCredential } from '../handles/CredentialHandle.js';
import { Secret } from '../secret.js';
import { loadIdentity } from './loadAzureSdk.js';
import { tokenError } from './tokenErrors.js';
import type { AzureAccessToken, AzureAccessTokenValue, AzureTokenCredential } from './types.js';
import { tokenHandleOptions, type TokenHandleOptions } from '../handles/tokenHandleOptions.js';

/** The scope of Azure Key Vault (public cloud). */
export const KEY_VAULT_SCOPE = 'https://vault.azure.net/.default';
/** The scope of Azure Database for PostgreSQL / MySQL with Microsoft Entra authentication. */
export const OSSRDBMS_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

/**
 * Options of {@link azureAccessToken}.
 *
 * @example
 * ```ts
 * azureAccessToken({ scopes: [OSSRDBMS_SCOPE], credential: () => new WorkloadIdentityCredential() });
 * ```
 */
export interface AzureAccessTokenInit extends TokenHandleOptions {
  /** The scopes of the tokens, e.g. `['https://vault.azure.net/.default']`. */
  readonly scopes: readonly string[];
  /**
   * Where tokens come from: any `@azure/identity` credential (`ClientSecretCredential`,
   * `ClientCertificateCredential`, `WorkloadIdentityCredential`, `ManagedIdentityCredential`, …),
   * or a function making one. A function is called for each token, so no second cache sits under
   * the handle: every refresh point the handle picks reaches Entra, and a forced refresh gets a new
   * token. A credential instance answers from its own cache until it decides to renew (MSAL: five
   * minutes before expiry), which the handle then follows. The function may be async, e.g. to read
   * a certificate through a SecretRef.
   * @default `() => new DefaultAzureCredential()`
   */
  readonly credential?: AzureTokenCredential | (() => AzureTokenCredential | Promise<AzureTokenCredential>);
}

/**
 * An auto-refreshing Microsoft Entra ID access token over any `@azure/identity` credential: a
 * `CredentialHandle` of the token text, and a `TokenCredential` over it for every Azure SDK
 * client ({@link AzureAccessToken.toTokenCredential}).
 *
 * The handle replaces each token at a jittered point of its lifetime (default 2/3–3/4) instead
 * of the Azure SDK's fixed two-minute window with a flat 3 s retry, so a fleet started together
 * does not stampede Entra; failed refreshes back off with jitter while the current token lives.
 * The token also works as the password of Azure Database for PostgreSQL with Entra
 * authentication (scope {@link OSSRDBMS_SCOPE}, `pg`'s password function).
 *
 * @example
 * ```ts
 * import { azureAccessToken, OSSRDBMS_SCOPE } from 'connector-secrets/azure';
 * import { WorkloadIdentityCredential } from '@azure/identity';
 *
 * const token = azureAccessToken({ scopes: [OSSRDBMS_SCOPE], credential: () => new WorkloadIdentityCredential() });
 * const pool = new pg.Pool({ host, user: 'etl-loader', ssl: true, password: async () => (await token.get()).reveal() });
 * ```
 */
export function azureAccessToken(init: AzureAccessTokenInit): AzureAccessToken {
  const scopes = Object.freeze([...(init?.scopes ?? [])]);
  if (scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || s === '')) throw new ConfigError('azureAccessToken: scopes must name at least one scope');
  const given = init.credential;
  if (given !== undefined && typeof given !== 'function' && typeof (given as AzureTokenCredential).getToken !== 'function') {
    throw new ConfigError('azureAccessToken: credential must be a TokenCredential (with getToken) or a function returning one');
  }
  const clock = init.clock ?? systemClock;
  const ref = `azure-token://${scopes.join(' ')}`;
  const ids = { ref, provider: 'azure' };
  let counter = 0;

  const credential = async (): Promise<AzureTokenCredential> => {
    if (given === undefined) return new (await loadIdentity()).DefaultAzureCredential();
    return typeof given === 'function' ? await given() : given;
  };

  const handle = createCredentialHandle<string>(
    {
      ref,
      async fetch(): Promise<IssuedCredential<string>> {
        let token: AzureAccessTokenValue | null;
        try {
          token = await (await credential()).getToken([...scopes]);
        } catch (err) {
          throw tokenError(err, ids);
        }
        if (token === null || typeof token.token !== 'string' || !Number.isFinite(token.expiresOnTimestamp)) {
          throw tokenError({ name: 'NoToken' }, ids);
        }
        // The credential counts with Date.now; the handle with its clock (a simulation's may differ).
        const expiresAt = clock.now() + (token.expiresOnTimestamp - Date.now());
        init.redactor?.add(token.token);
        const secret = new Secret(token.token, { ref, provider: 'azure', version: `token-${++counter}`, expiresAt: new Date(expiresAt) });
        return { secret, expiresAt };
      },
    },
    tokenHandleOptions(init, clock, (init.random ?? Math.random)),
  );

  /** The handle wraps a failed replacement as SECRET_EXPIRED; its cause says what went wrong. */
  const unwrap = (err: unknown): unknown => (err instanceof SecretExpiredError && err.cause instanceof ConnectorSecretsError ? err.cause : err);

  const tokenCredential: AzureTokenCredential = {
    async getToken(wanted, options?: { claims?: string }) {
      const asked = typeof wanted === 'string' ? [wanted] : wanted;
      if (asked.some((s) => !scopes.includes(s))) {
        throw new ConfigError('this token handle was made for other scopes than an Azure client asked for: make one handle per audience', ids);
      }
      // A claims challenge (CAE) means the current token was revoked: replace it.
      const secret = options?.claims ? await handle.refresh() : await handle.get().catch((err: unknown) => Promise.reject(unwrap(err)));
      const left = secret.expiresAt!.getTime() - clock.now();
      // refreshAfterTimestamp = now: the Azure SDK asks again on its next request (a memory read
      // here), so a client never keeps a token the handle has already replaced.
      return { token: secret.reveal(), expiresOnTimestamp: Date.now() + left, refreshAfterTimestamp: Date.now(), tokenType: 'Bearer' };
    },
  };

  return {
    scopes,
    get ref() {
      return handle.ref;
    },
    get expiresAt() {
      return handle.expiresAt;
    },
    get: () => handle.get().catch((err: unknown) => Promise.reject(unwrap(err))),
    refresh: () => handle.refresh(),
    withCredential: (fn, options) => handle.withCredential(fn, options),
    on: (event, listener) => handle.on(event, listener),
    onRotate: (listener) => handle.onRotate(listener),
    close: () => handle.close(),
    async [Symbol.asyncDispose]() {
      await handle.close();
    },
    toTokenCredential: () => tokenCredential,
  };
}
