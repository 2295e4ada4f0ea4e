import type { KeyVaultSecret, SecretClient, SecretClientOptions, SecretProperties } from '@azure/keyvault-secrets';
import { AccessDeniedError, ConfigError, InvalidSecretRefError, ProviderError, SecretNotFoundError } from '../errors.js';
import type { ResolveContext, ResolvedSecret, SecretDescription, SecretProvider } from '../provider.js';
import type { SecretRef } from '../ref/types.js';
import { loadIdentity, loadKeyVaultSecrets } from './loadAzureSdk.js';
import { metadataOf } from './metadata.js';
import { locate, vaultNameOf } from './refs.js';
import { isUnauthorized, toSecretsError } from './toSecretsError.js';
import { isAzureAccessToken, type AzureAccessToken, type AzureTokenCredential } from './types.js';

/**
 * Options of {@link fromAzureKeyVault}.
 *
 * @example
 * ```ts
 * fromAzureKeyVault({ vaultUrl: 'https://orders-kv.vault.azure.net', credential: azureAccessToken({ scopes: [KEY_VAULT_SCOPE], credential }) });
 * ```
 */
export interface FromAzureKeyVaultInit {
  /** The vault URL, `https://<vault-name>.vault.azure.net` (or a sovereign cloud's). */
  readonly vaultUrl: string;
  /**
   * The credential. An {@link AzureAccessToken} handle is preferred: its token is refreshed ahead
   * of expiry with jitter and shared with your other Azure clients, and a request refused with
   * 401 refreshes it and is retried once. Any `@azure/identity` `TokenCredential` works too.
   * @default `new DefaultAzureCredential()`
   */
  readonly credential?: AzureAccessToken | AzureTokenCredential;
  /**
   * Options passed to `SecretClient` (`disableChallengeResourceVerification`, `agent`,
   * `retryOptions`, `proxyOptions`, …).
   * @default `{ retryOptions: { maxRetries: 3 } }`: throttling (honouring `Retry-After`), 5xx and
   * network errors are retried three times
   */
  readonly clientOptions?: SecretClientOptions;
  /** What `rotate` writes besides the value. */
  readonly rotation?: {
    /**
     * The new version expires (`attributes.exp`) this long after the rotation.
     * @default no expiry
     */
    readonly expiresAfterMs?: number;
  };
  /**
   * The provider name shown in errors and on `Secret.provider`.
   * @default 'azure-kv'
   */
  readonly name?: string;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
}

interface Runtime {
  readonly client: SecretClient;
}

/**
 * A provider for Azure Key Vault secrets, serving `azure-kv://<vault>/<secret>[/<version>][#field]`
 * for the one vault of `vaultUrl` (the vault name is the first label of its host; a ref naming
 * another vault is SECRET_NOT_FOUND here, so the chain tries the next provider).
 *
 * - The value is text (JSON fields through `#field`); the version id is the version;
 *   `contentType` is kept as a fact.
 * - Tags become metadata (`environment`, `owner`, `purpose`, `sensitivity`, `rotation`), so the
 *   environment guard and the policy apply.
 * - `attributes.exp` becomes `expiresAt` (the client refuses the secret after it);
 *   `attributes.nbf` in the future refuses the read (ACCESS_DENIED, saying until when); a disabled
 *   version is refused by Key Vault (ACCESS_DENIED, `SecretDisabled`).
 * - `rotate(ref, value)` writes a new version with `setSecret`, keeping the current version's
 *   tags, with `rotation.expiresAfterMs` as its expiry.
 * - Errors: 404 → SECRET_NOT_FOUND; 403 and a 401 that survives the challenge and one token
 *   refresh → ACCESS_DENIED (with the inner code); 429, 5xx and network errors →
 *   PROVIDER_UNAVAILABLE after the SDK's retries, which honour `Retry-After`. Azure's messages
 *   are never passed on (see {@link AzureApiError}).
 *
 * `@azure/keyvault-secrets` (and `@azure/identity` for the default credential), optional peer
 * dependencies, are loaded on the first request.
 *
 * @example
 * ```ts
 * import { createSecrets } from 'connector-secrets';
 * import { fromAzureKeyVault } from 'connector-secrets/azure';
 *
 * const secrets = createSecrets({ environment: 'prod', providers: [fromAzureKeyVault({ vaultUrl: 'https://orders-kv.vault.azure.net' })] });
 * const password = await secrets.get('azure-kv://orders-kv/orders-db#password');
 * ```
 */
export function fromAzureKeyVault(init: FromAzureKeyVaultInit): SecretProvider {
  const name = init.name ?? 'azure-kv';
  const vault = typeof init?.vaultUrl === 'string' ? vaultNameOf(init.vaultUrl) : undefined;
  if (vault === undefined) throw new ConfigError('vaultUrl must be an https URL whose host starts with the vault name (https://<vault>.vault.azure.net)', { provider: name });
  const expiresAfterMs = init.rotation?.expiresAfterMs;
  if (expiresAfterMs !== undefined && !(expiresAfterMs >= 1000)) throw new ConfigError('rotation.expiresAfterMs must be a number of milliseconds, at least 1000', { provider: name });
  const handle = isAzureAccessToken(init.credential) ? init.credential : undefined;
  let runtime: Promise<Runtime> | undefined;
  let closed = false;

  const start = async (): Promise<Runtime> => {
    const { SecretClient } = await loadKeyVaultSecrets();
    const credential = handle !== undefined ? handle.toTokenCredential() : (init.credential as AzureTokenCredential | undefined) ?? new (await loadIdentity()).DefaultAzureCredential();
    const client = new SecretClient(init.vaultUrl, credential as ConstructorParameters<typeof SecretClient>[1], { retryOptions: { maxRetries: 3 }, ...init.clientOptions });
    return { client };
  };

  const ready = (): Promise<Runtime> => {
    if (closed) throw new ConfigError('the Azure Key Vault provider was closed', { provider: name });
    runtime ??= start().catch((err: unknown) => {
      runtime = undefined;
      throw err;
    });
    return runtime;
  };

  /**
   * One SDK call. With a token handle, a call still refused with 401 after the SDK's own challenge
   * retry refreshes the handle (coalesced with any other caller's refresh) and is made once more.
   */
  const send = <T>(call: () => Promise<T>): Promise<T> => (handle === undefined ? call() : handle.withCredential(() => call(), { isAuthError: isUnauthorized }));

  const resolved = (secret: KeyVaultSecret, ids: { ref: string; provider: string }, now: number): ResolvedSecret => {
    const p = secret.properties;
    if (typeof secret.value !== 'string') throw new ProviderError('Azure Key Vault returned a secret without a value', ids);
    // Key Vault does not enforce nbf for secrets; the promise "not usable before" is kept here.
    if (p.notBefore instanceof Date && p.notBefore.getTime() > now) {
      throw new AccessDeniedError(`the secret version is not usable before ${p.notBefore.toISOString()} (attributes.nbf)`, ids);
    }
    if (p.enabled === false) throw new AccessDeniedError('the secret version is disabled (attributes.enabled is false)', ids);
    return {
      value: secret.value,
      ...(p.version === undefined ? {} : { version: p.version }),
      ...(p.expiresOn instanceof Date ? { expiresAt: p.expiresOn } : {}),
      metadata: metadataOf(p),
    };
  };

  return {
    name,
    schemes: ['azure-kv'],
    ...(init.environment === undefined ? {} : { environment: init.environment }),

    async resolve(ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = locate(ref, vault, name);
        const { client } = await ready();
        const secret = await send(() => client.getSecret(at.secret, { abortSignal: ctx.signal, ...(at.version === undefined ? {} : { version: at.version }) }));
        return resolved(secret, ids, ctx.now());
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    /**
     * From the version list (`GET /secrets/{name}/versions`: attributes and tags, never values;
     * `list` permission). The current version is the newest; the first version's creation is the
     * secret's, and a later current version's creation is its last rotation.
     */
    async describe(ref: SecretRef, ctx: ResolveContext): Promise<SecretDescription> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = locate(ref, vault, name);
        const { client } = await ready();
        const versions = await send(async () => {
          const all: SecretProperties[] = [];
          for await (const p of client.listPropertiesOfSecretVersions(at.secret, { abortSignal: ctx.signal })) all.push(p);
          return all;
        });
        const time = (p: SecretProperties) => p.createdOn?.getTime() ?? 0;
        const ordered = versions.sort((a, b) => time(a) - time(b));
        const current = at.version === undefined ? ordered.at(-1) : ordered.find((p) => p.version === at.version);
        if (current === undefined) throw new SecretNotFoundError(at.version === undefined ? 'the secret has no versions' : 'the secret has no such version', ids);
        const first = ordered[0]!;
        return {
          ...(current.version === undefined ? {} : { version: current.version }),
          ...(first.createdOn instanceof Date ? { createdAt: first.createdOn } : {}),
          ...(current.updatedOn instanceof Date ? { updatedAt: current.updatedOn } : {}),
          ...(current !== first && current.createdOn instanceof Date ? { lastRotatedAt: current.createdOn } : {}),
          ...(current.expiresOn instanceof Date ? { expiresAt: current.expiresOn } : {}),
          metadata: metadataOf(current),
        };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async rotate(ref: SecretRef, value: string, ctx: ResolveContext): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = locate(ref, vault, name);
        if (at.version !== undefined) throw new InvalidSecretRefError('rotate writes a new version: name the secret without a version', ids);
        if (ref.fieldPath !== undefined) throw new InvalidSecretRefError('rotate writes the whole secret: give the ref without #field', ids);
        const { client } = await ready();
        // The current version's tags carry over: they are what the guard reads. (Its contentType
        // cannot: setSecret of @azure/keyvault-secrets 4.11 sends no contentType.)
        const current = await send(() => client.getSecret(at.secret, { abortSignal: ctx.signal })).catch((err: unknown) => {
          if ((err as { statusCode?: unknown }).statusCode === 404) return undefined;
          throw err;
        });
        const p = current?.properties;
        const expiresOn = expiresAfterMs === undefined ? undefined : new Date(Math.floor((ctx.now() + expiresAfterMs) / 1000) * 1000);
        const written = await send(() =>
          client.setSecret(at.secret, value, {
            abortSignal: ctx.signal,
            ...(p?.tags === undefined ? {} : { tags: p.tags }),
            ...(expiresOn === undefined ? {} : { expiresOn }),
          }),
        );
        const properties = written.properties;
        return {
          value,
          ...(properties.version === undefined ? {} : { version: properties.version }),
          ...(properties.expiresOn instanceof Date ? { expiresAt: properties.expiresOn } : {}),
          metadata: metadataOf(properties),
        };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async close(): Promise<void> {
      closed = true;
      runtime = undefined;
    },
  };
}
