import { ConfigError } from '../errors.js';

/** The modules of the AWS SDK v3 the integration uses, each an optional peer dependency. */
export type SecretsManagerModule = typeof import('@aws-sdk/client-secrets-manager');
export type CredentialProvidersModule = typeof import('@aws-sdk/credential-providers');
export type RdsSignerModule = typeof import('@aws-sdk/rds-signer');

const loading = new Map<string, Promise<unknown>>();

/**
 * Loads an AWS SDK package on first use; nothing in connector-secrets imports one before an AWS
 * provider or handle makes its first request. A failed load is retried on the next call.
 */
function load<T>(name: string, importer: () => Promise<unknown>): Promise<T> {
  let pending = loading.get(name);
  if (pending === undefined) {
    pending = importer().then(
      (mod) => mod,
      (err: unknown) => {
        loading.delete(name);
        throw new ConfigError(`the AWS integration needs the optional peer dependency ${name} (v3, >= 3.600): npm install ${name}`, { provider: 'aws', cause: err });
      },
    );
    loading.set(name, pending);
  }
  return pending as Promise<T>;
}

/** `@aws-sdk/client-secrets-manager`. */
export const loadSecretsManager = (): Promise<SecretsManagerModule> => load('@aws-sdk/client-secrets-manager', () => import('@aws-sdk/client-secrets-manager'));
/** `@aws-sdk/credential-providers`. */
export const loadCredentialProviders = (): Promise<CredentialProvidersModule> => load('@aws-sdk/credential-providers', () => import('@aws-sdk/credential-providers'));
/** `@aws-sdk/rds-signer`. */
export const loadRdsSigner = (): Promise<RdsSignerModule> => load('@aws-sdk/rds-signer', () => import('@aws-sdk/rds-signer'));
