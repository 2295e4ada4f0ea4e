import type { SecretsClient } from '../client.js';
import type { CredentialHandle } from '../handles/CredentialHandle.js';
import { handleOf, tokenOf, type HandleOrRef } from './credential.js';

/**
 * Options of the HTTP adapters ({@link undiciAuth}, {@link axiosAuth}).
 *
 * @example
 * ```ts
 * const options: HttpAuthOptions = { scheme: 'Token', header: 'authorization' };
 * ```
 */
export interface HttpAuthOptions {
  /**
   * The word in front of the token, or `''` to send the token alone.
   * @default 'Bearer'
   */
  readonly scheme?: string;
  /**
   * The request header that carries it (lowercase).
   * @default 'authorization'
   */
  readonly header?: string;
}

/** A token source shared by the HTTP adapters. */
export interface TokenAuth {
  readonly handle: CredentialHandle<unknown>;
  readonly owned: boolean;
  readonly header: string;
  /** The header value for a credential. */
  value(credential: Parameters<Parameters<CredentialHandle<unknown>['withCredential']>[0]>[0]): string;
}

/** Resolves the handle and the header shape. */
export function tokenAuth(source: HandleOrRef, secrets: Pick<SecretsClient, 'handle'>, options: HttpAuthOptions = {}): TokenAuth {
  const { handle, owned } = handleOf(source, secrets);
  const scheme = options.scheme ?? 'Bearer';
  return {
    handle,
    owned,
    header: (options.header ?? 'authorization').toLowerCase(),
    value: (credential) => (scheme === '' ? '' : `${scheme} `) + tokenOf(credential, handle.ref),
  };
}

/** Thrown inside `withCredential` to say "the server answered 401": it is an auth error, so the handle refreshes once and the request is sent again. */
export class Unauthorized extends Error {
  readonly status = 401;
}
