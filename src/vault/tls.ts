import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { SecretRef } from '../ref/types.js';
import type { CredentialSource } from './credentials.js';

/**
 * TLS settings for talking to Vault. Certificates are public and given as PEM text or files;
 * the client private key is a secret and is given as a SecretRef.
 *
 * @example
 * ```ts
 * fromVault({
 *   address: 'https://vault.internal:8200',
 *   tls: { caFile: '/etc/vault/ca.pem', certFile: '/etc/vault/client.pem', key: 'file:///run/secrets/vault-client.key' },
 * });
 * ```
 */
export interface VaultTlsOptions {
  /** CA certificates (PEM) that may sign Vault's certificate, instead of Node's bundle. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /**
   * A PEM file of CA certificates, read once when the provider starts.
   * @default the VAULT_CACERT variable, when set
   */
  readonly caFile?: string;
  /** Client certificate (PEM) for mutual TLS. */
  readonly cert?: string | Buffer;
  /** A PEM file holding the client certificate. */
  readonly certFile?: string;
  /** The client private key, as a SecretRef (`file:///run/secrets/vault-client.key`, `env://…`). */
  readonly key?: string | SecretRef;
  /** The key's passphrase, as a SecretRef. */
  readonly passphrase?: string | SecretRef;
  /**
   * Verify Vault's certificate. `VAULT_SKIP_VERIFY` is ignored on purpose: turning
   * verification off takes this explicit option.
   * @default true
   */
  readonly rejectUnauthorized?: boolean;
}

/** TLS material, read and resolved. */
export interface ResolvedTls {
  readonly ca?: string | Buffer | (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string;
  readonly passphrase?: string;
  readonly rejectUnauthorized: boolean;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`tls.${what} ${file} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { provider: 'vault', cause: err });
  }
}

/** Reads files and resolves the key refs. */
export async function resolveTls(options: VaultTlsOptions | undefined, env: Readonly<Record<string, string | undefined>>, credentials: CredentialSource): Promise<ResolvedTls | undefined> {
  const caFile = options?.caFile ?? env['VAULT_CACERT'];
  if (options === undefined && caFile === undefined) return undefined;
  const ca = options?.ca !== undefined ? (Array.isArray(options.ca) ? [...options.ca] : (options.ca as string | Buffer)) : caFile !== undefined ? await readPem(caFile, 'caFile') : undefined;
  const cert = options?.cert ?? (options?.certFile !== undefined ? await readPem(options.certFile, 'certFile') : undefined);
  const key = options?.key === undefined ? undefined : await credentials.secret(options.key, 'tls.key');
  const passphrase = options?.passphrase === undefined ? undefined : await credentials.secret(options.passphrase, 'tls.passphrase');
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('tls.cert (or certFile) and tls.key must be given together for a client certificate');
  return {
    rejectUnauthorized: options?.rejectUnauthorized ?? true,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(passphrase === undefined ? {} : { passphrase }),
  };
}
