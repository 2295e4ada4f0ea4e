import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, isConnectorSecretsError } from '../errors.js';
import { isSecretRef, parseRef } from '../ref/parseRef.js';
import type { SecretRef } from '../ref/types.js';

/**
 * Resolves a SecretRef the Vault provider needs for itself (an AppRole secret_id, a JWT, a TLS
 * key) when it is neither `file://` nor `env://`, which the provider reads on its own.
 *
 * @example
 * ```ts
 * const resolveRef: VaultRefResolver = async (ref) => (await bootstrap.get(ref)).reveal();
 * ```
 */
export type VaultRefResolver = (ref: SecretRef) => Promise<string>;

/** Reads the credentials the provider logs in with. Each call reads afresh (files are re-read). */
export class CredentialSource {
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly resolver: VaultRefResolver | undefined,
    private readonly provider: string,
  ) {}

  /** A secret given as a SecretRef (never as a literal). */
  async secret(ref: string | SecretRef, what: string): Promise<string> {
    let parsed: SecretRef;
    try {
      parsed = isSecretRef(ref) ? ref : parseRef(ref);
    } catch (err) {
      // The text is not repeated: it may be a secret pasted where a reference belongs.
      throw new ConfigError(`${what} must be a secret reference such as file:///run/secrets/x or env://NAME, not a literal value`, {
        provider: this.provider,
        cause: isConnectorSecretsError(err) ? err : undefined,
      });
    }
    return this.#read(parsed, what);
  }

  /** A value that is not secret (an AppRole role_id) given either literally or as a SecretRef. */
  async identifier(value: string | SecretRef, what: string): Promise<string> {
    if (typeof value === 'string' && !value.includes('://')) return value;
    return this.secret(value, what);
  }

  async #read(ref: SecretRef, what: string): Promise<string> {
    const id = { provider: this.provider, ref: String(ref) };
    if (ref.scheme === 'env') {
      const value = this.env[ref.path];
      if (value === undefined || value === '') throw new ConfigError(`${what}: environment variable ${ref.path} is not set`, id);
      return value;
    }
    if (ref.scheme === 'file') {
      const file = ref.path.startsWith('/') ? ref.path : path.resolve(ref.path);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`${what}: ${file} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { ...id, cause: err });
      }
      const value = text.replace(/\r?\n$/, '');
      if (value === '') throw new ConfigError(`${what}: ${file} is empty`, id);
      return selectField(value, ref, what, id);
    }
    if (this.resolver === undefined) {
      throw new ConfigError(`${what}: ${ref.scheme}:// refs need the resolveRef option (file:// and env:// are read directly)`, id);
    }
    const value = await this.resolver(ref);
    if (typeof value !== 'string' || value === '') throw new ConfigError(`${what}: resolveRef returned no value`, id);
    return value;
  }
}

function selectField(text: string, ref: SecretRef, what: string, id: { provider: string; ref: string }): string {
  if (ref.fieldPath === undefined) return text;
  let node: unknown;
  try {
    node = JSON.parse(text);
  } catch {
    throw new ConfigError(`${what}: the file is not JSON, so #${ref.field ?? ''} cannot be selected`, id);
  }
  for (const key of ref.fieldPath) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  if (typeof node !== 'string' || node === '') throw new ConfigError(`${what}: field #${ref.field ?? ''} is missing or not a string`, id);
  return node;
}
