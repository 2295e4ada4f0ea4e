import { ConfigError } from '../errors.js';

/** The Azure SDK packages the integration uses, each an optional peer dependency. */
export type IdentityModule = typeof import('@azure/identity');
export type KeyVaultSecretsModule = typeof import('@azure/keyvault-secrets');

const loading = new Map<string, Promise<unknown>>();

/**
 * Loads an Azure SDK package on first use; nothing in connector-secrets imports one before an
 * Azure provider or token handle makes its first request. A failed load is retried on the next call.
 */
function load<T>(name: string, importer: () => Promise<unknown>, check: (mod: unknown) => boolean): Promise<T> {
  let pending = loading.get(name);
  if (pending === undefined) {
    pending = importer().then(
      (mod) => {
        // CommonJS through ESM: the named exports may sit on `default`.
        const lib = check(mod) ? mod : (mod as { default?: unknown }).default;
        if (!check(lib)) throw new ConfigError(`${name} did not export what the Azure integration needs; install ${name} 4.x`, { provider: 'azure' });
        return lib;
      },
      (err: unknown) => {
        loading.delete(name);
        throw new ConfigError(`the Azure integration needs the optional peer dependency ${name} (4.x): npm install ${name}`, { provider: 'azure', cause: err });
      },
    );
    loading.set(name, pending);
  }
  return pending as Promise<T>;
}

/** `@azure/identity`. */
export const loadIdentity = (): Promise<IdentityModule> =>
  load('@azure/identity', () => import('@azure/identity'), (m) => typeof (m as Partial<IdentityModule> | undefined)?.DefaultAzureCredential === 'function');

/** `@azure/keyvault-secrets`. */
export const loadKeyVaultSecrets = (): Promise<KeyVaultSecretsModule> =>
  load('@azure/keyvault-secrets', () => import('@azure/keyvault-secrets'), (m) => typeof (m as Partial<KeyVaultSecretsModule> | undefined)?.SecretClient === 'function');
