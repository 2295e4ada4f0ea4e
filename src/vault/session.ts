import type { VaultTokenHandle } from './tokenHandle.js';
import { raceAbort, type VaultCall, type VaultTransport } from './transport.js';
import { VaultHttpFailure } from './VaultHttpFailure.js';

/** Marks a 403 that Vault gave because the token itself is no longer valid. */
class TokenRefused extends Error {
  constructor(readonly failure: VaultHttpFailure) {
    super('the Vault token was refused');
  }
}

/**
 * Authenticated Vault calls: each carries the current token; a `permission denied` answer whose
 * token Vault also refuses for lookup-self (expired, revoked) leads to one new login and one
 * retry. A `permission denied` for a valid token (a policy denial) is returned as it is.
 */
export class VaultSession {
  constructor(
    readonly transport: VaultTransport,
    readonly token: VaultTokenHandle,
  ) {}

  /** Sends `call` with the token; resolves the response body. */
  async call(call: Omit<VaultCall, 'token'>): Promise<unknown> {
    const run = this.token.withToken(
      async (token) => {
        try {
          return await this.transport.send({ ...call, token });
        } catch (err) {
          if (err instanceof VaultHttpFailure && err.permissionDenied && (await this.#refused(token, call.signal))) throw new TokenRefused(err);
          throw err;
        }
      },
      (err) => err instanceof TokenRefused,
    );
    try {
      return await raceAbort(run, call.signal);
    } catch (err) {
      throw err instanceof TokenRefused ? err.failure : err;
    }
  }

  /** Whether Vault refuses the token itself (lookup-self answers 403). */
  async #refused(token: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.transport.send({ method: 'GET', path: 'auth/token/lookup-self', token, signal, retry: false });
      return false;
    } catch (err) {
      return err instanceof VaultHttpFailure && err.status === 403;
    }
  }
}

/** Percent-encodes each segment and joins them with `/`. */
export function encodePath(segments: readonly string[]): string {
  return segments.map(encodeURIComponent).join('/');
}
