import { SecretExpiredError } from '../errors.js';
import type { Lease } from '../provider.js';
import { parseEnvelope } from './envelope.js';
import type { VaultSession } from './session.js';
import { toSecretsError, VaultHttpFailure } from './VaultHttpFailure.js';

/** When each lease the provider handed out was issued (epoch ms), to spot its max TTL. */
export type LeaseBook = Map<string, { readonly issuedAt: number; readonly ttlMs: number }>;

const GONE = /lease not found|not renewable|invalid lease|lease expired/i;

/**
 * PUT `sys/leases/renew`. The new TTL is the one Vault returns. When Vault caps it (a shorter
 * TTL than the lease's default, or a `max_ttl` warning), the lease's `maxTtlMs` is set from its
 * issue time, so a handle replaces the credential instead of renewing again.
 *
 * @throws {@link SecretExpiredError} when Vault no longer knows or renews the lease.
 */
export async function renewLease(session: VaultSession, lease: Lease, book: LeaseBook, provider: string, now: () => number, signal: AbortSignal | undefined): Promise<Lease> {
  let body: unknown;
  try {
    body = await session.call({ method: 'PUT', path: 'sys/leases/renew', body: { lease_id: lease.id }, signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 400 && err.api.errors.some((e) => GONE.test(e))) {
      throw new SecretExpiredError(`the lease can no longer be renewed: ${err.api.errors.join('; ')}`, { provider, cause: err.api });
    }
    throw toSecretsError(err, { provider });
  }
  const env = parseEnvelope(body);
  const ttlMs = Math.max(0, (env.lease_duration ?? 0) * 1000);
  const issued = book.get(lease.id);
  const capped = (issued !== undefined && ttlMs + 1000 < issued.ttlMs) || (env.warnings ?? []).some((w) => w.includes('max_ttl'));
  const maxTtlMs = capped && issued !== undefined ? now() - issued.issuedAt + ttlMs : lease.maxTtlMs;
  return {
    id: env.lease_id && env.lease_id !== '' ? env.lease_id : lease.id,
    ttlMs,
    renewable: env.renewable ?? lease.renewable,
    ...(maxTtlMs === undefined ? {} : { maxTtlMs }),
  };
}

/** PUT `sys/leases/revoke`. Revoking an unknown or already revoked lease succeeds, as in Vault. */
export async function revokeLease(session: VaultSession, lease: Lease, book: LeaseBook, provider: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await session.call({ method: 'PUT', path: 'sys/leases/revoke', body: { lease_id: lease.id }, signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 400 && err.api.errors.some((e) => GONE.test(e))) {
      book.delete(lease.id);
      return;
    }
    throw toSecretsError(err, { provider });
  }
  book.delete(lease.id);
}
