import type { SecretsClient } from '../client.js';
import { SecretFormatError } from '../errors.js';
import type { CredentialHandle } from '../handles/CredentialHandle.js';
import type { SecretRef } from '../ref/types.js';
import type { Secret } from '../secret.js';

/** A credential handle, or a ref to make one from with `secrets.handle(ref)`. */
export type HandleOrRef<T = unknown> = CredentialHandle<T> | string | SecretRef;

/** A database login: `username` (or `user`) and `password`, as a JSON text or an object. */
export interface Login {
  readonly user: string;
  readonly password: string;
}

/** The handle to use, and whether the adapter made it (and so closes it). */
export function handleOf<T>(source: HandleOrRef<T>, secrets: Pick<SecretsClient, 'handle'>): { handle: CredentialHandle<T | string>; owned: boolean } {
  if (typeof source === 'object' && source !== null && 'withCredential' in source) return { handle: source, owned: false };
  return { handle: secrets.handle(source as string | SecretRef), owned: true };
}

/**
 * Reads a login from a credential: a JSON text or an object with `username` or `user`, and
 * `password` (Vault database credentials, AWS RDS secrets). The error names the fields, never
 * the value.
 */
export function loginOf(credential: Secret<unknown>, ref: string): Login {
  let value: unknown = credential.reveal();
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new SecretFormatError('the credential is not JSON with username and password fields', { ref });
    }
  }
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const user = o['username'] ?? o['user'];
  const password = o['password'];
  if (typeof user !== 'string' || typeof password !== 'string') {
    throw new SecretFormatError('the credential needs string fields username (or user) and password', { ref });
  }
  return { user, password };
}

/** The token text of a credential: the text itself, or its `token` / `access_token` field. */
export function tokenOf(credential: Secret<unknown>, ref: string): string {
  const value = credential.reveal();
  if (typeof value === 'string') return value;
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const token = o['token'] ?? o['access_token'];
  if (typeof token !== 'string') throw new SecretFormatError('the credential needs to be text or have a string token / access_token field', { ref });
  return token;
}
