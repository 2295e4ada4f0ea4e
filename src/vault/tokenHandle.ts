import { ConnectorSecretsError, SecretExpiredError } from '../errors.js';
import type { Clock } from '../handles/clock.js';
import { createCredentialHandle, type IssuedCredential } from '../handles/CredentialHandle.js';
import type { Lease } from '../provider.js';
import { Secret } from '../secret.js';
import type { TokenGrant } from './auth.js';
import { parseEnvelope } from './envelope.js';
import type { VaultTransport } from './transport.js';
import { toSecretsError, VaultHttpFailure } from './VaultHttpFailure.js';

/** The pseudo-ref of the provider's own token in handle errors and events. */
export const TOKEN_REF = 'vault://auth/token/self';

/** What the token handle needs. */
export interface TokenHandleDeps {
  readonly provider: string;
  readonly transport: VaultTransport;
  /** Logs in (or re-reads a static token); a fresh token each call. */
  readonly login: (signal: AbortSignal | undefined) => Promise<TokenGrant>;
  readonly clock: Clock;
  readonly random: () => number;
  /** Where in its TTL the token is renewed, drawn uniformly from this range. */
  readonly refreshFraction: readonly [number, number];
  /** Revoke the token (revoke-self) on close. */
  readonly revokeOnClose: boolean;
  readonly onError: ((err: unknown) => void) | undefined;
}

/** The provider's token, refreshed in the background. */
export interface VaultTokenHandle {
  /** A valid token (logs in when none is held). */
  get(): Promise<Secret<string>>;
  /**
   * Runs `fn` with the token; when `fn` throws an error `isRejected` recognises (the token was
   * refused), logs in again once and runs `fn` once more with the new token.
   */
  withToken<R>(fn: (token: string) => Promise<R>, isRejected: (err: unknown) => boolean): Promise<R>;
  /** Stops the timers; revokes the token when configured. */
  close(): Promise<void>;
}

/**
 * The provider's Vault token on the generic {@link createCredentialHandle}: renew-self at a
 * jittered point of its TTL (default 60–70 %), a new login when it is not renewable or its max
 * TTL is near (a renewal that comes back shorter than asked marks the max TTL), a forced login
 * after a refused request, and revoke-self on close. Timers come from the injected clock: the
 * scheduled renewals are background timers that never keep the process alive; the short pause
 * before the forced login, which the refused request waits on, keeps it alive.
 */
export function createTokenHandle(deps: TokenHandleDeps): VaultTokenHandle {
  const { clock, provider, transport } = deps;
  // Tokens by lease id: the handle renews and revokes leases, and each needs its own token.
  const tokens = new Map<string, { secret: Secret<string>; issuedAt: number; fullTtlMs: number }>();
  let counter = 0;

  const handle = createCredentialHandle<string>(
    {
      ref: TOKEN_REF,
      async fetch(_force, signal): Promise<IssuedCredential<string>> {
        const grant = await deps.login(signal);
        const issuedAt = clock.now();
        const secret = new Secret(grant.token, { ref: TOKEN_REF, provider, version: grant.accessor ?? `token-${++counter}` });
        if (grant.ttlMs === 0) return { secret };
        const lease: Lease = {
          id: secret.version!,
          ttlMs: grant.ttlMs,
          renewable: grant.renewable,
          ...(grant.maxTtlMs === undefined ? {} : { maxTtlMs: grant.maxTtlMs }),
        };
        // Keep the current and the previous token only (the handle revokes both on close).
        tokens.set(lease.id, { secret, issuedAt, fullTtlMs: grant.renewIncrementMs ?? grant.ttlMs });
        while (tokens.size > 2) tokens.delete(tokens.keys().next().value!);
        return { secret, expiresAt: issuedAt + grant.ttlMs, lease };
      },
      async renew(lease, signal): Promise<Lease> {
        const held = tokens.get(lease.id);
        if (held === undefined) throw new SecretExpiredError('no Vault token to renew', { ref: TOKEN_REF, provider });
        const incrementS = Math.max(1, Math.round(held.fullTtlMs / 1000));
        let response: unknown;
        try {
          response = await transport.send({ method: 'POST', path: 'auth/token/renew-self', token: held.secret.reveal(), body: { increment: incrementS }, signal });
        } catch (err) {
          throw toSecretsError(err, { ref: TOKEN_REF, provider });
        }
        const env = parseEnvelope(response);
        const ttlMs = Math.max(0, (env.auth?.lease_duration ?? 0) * 1000);
        // Vault caps a renewal at the token's max TTL: a shorter answer means the max TTL is near.
        const capped = ttlMs + 1000 < incrementS * 1000 || (env.warnings ?? []).some((w) => w.includes('max_ttl'));
        const maxTtlMs = capped ? clock.now() - held.issuedAt + ttlMs : lease.maxTtlMs;
        return { id: lease.id, ttlMs, renewable: env.auth?.renewable ?? lease.renewable, ...(maxTtlMs === undefined ? {} : { maxTtlMs }) };
      },
      async revoke(lease): Promise<void> {
        const held = tokens.get(lease.id);
        tokens.delete(lease.id);
        if (held === undefined) return;
        try {
          await transport.send({ method: 'POST', path: 'auth/token/revoke-self', token: held.secret.reveal(), retry: false });
        } catch (err) {
          // A token Vault already refuses needs no revocation.
          if (err instanceof VaultHttpFailure && err.status === 403) return;
          throw toSecretsError(err, { ref: TOKEN_REF, provider });
        }
      },
    },
    {
      clock,
      random: deps.random,
      refreshFraction: deps.refreshFraction,
      // Long-lived tokens: refresh no later than a minute before expiry (less for short TTLs).
      refreshWindowMs: 60_000,
      safetyMarginMs: 500,
      backoffBaseMs: 250,
      backoffMaxMs: 30_000,
      authRetryCooldownMs: 50,
      revokeOnClose: deps.revokeOnClose,
    },
  );
  if (deps.onError !== undefined) handle.on('refresh-error', deps.onError);
  if (deps.onError !== undefined) handle.on('revoke-error', deps.onError);

  /** The handle wraps a failed replacement as SECRET_EXPIRED; its cause is what steers the chain. */
  const unwrap = (err: unknown): unknown =>
    err instanceof SecretExpiredError && err.cause instanceof ConnectorSecretsError ? err.cause : err;

  return {
    async get() {
      try {
        return await handle.get();
      } catch (err) {
        throw unwrap(err);
      }
    },
    async withToken(fn, isRejected) {
      try {
        return await handle.withCredential((secret) => fn(secret.reveal()), { isAuthError: isRejected });
      } catch (err) {
        throw unwrap(err);
      }
    },
    close: () => handle.close(),
  };
}
