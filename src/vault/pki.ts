import { InvalidSecretRefError, ProviderError } from '../errors.js';
import type { ResolvedSecret } from '../provider.js';
import type { ReadContext } from './kv.js';
import { withLease } from './kv.js';
import type { Located } from './mounts.js';
import { parseEnvelope } from './envelope.js';
import { encodePath, type VaultSession } from './session.js';
import { toSecretsError } from './VaultHttpFailure.js';

/** Ref params passed to `pki/issue/<role>` (the provider declares them). */
export const PKI_PARAMS = [
  'common_name',
  'alt_names',
  'ip_sans',
  'uri_sans',
  'other_sans',
  'ttl',
  'format',
  'private_key_format',
  'exclude_cn_from_sans',
  'not_after',
  'remove_roots_from_chain',
] as const;

const BOOLEAN_PARAMS = new Set(['exclude_cn_from_sans', 'remove_roots_from_chain']);

/** Whether the located path is a PKI issue endpoint (`issue/<role>` or `issuer/<ref>/issue/<role>`). */
export function isPkiIssue(at: Located): boolean {
  if (at.mount.type !== 'pki' && at.mount.type !== undefined) return false;
  const r = at.rest;
  return (r.length === 2 && r[0] === 'issue') || (r.length === 4 && r[0] === 'issuer' && r[2] === 'issue');
}

/** `expiration` arrives as a JSON number (the server) or a string (the API docs): epoch seconds. */
export function parseExpiration(value: unknown): Date | undefined {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
}

/**
 * POST `<mount>/issue/<role>` with the ref's params: a fresh certificate, its private key and
 * the CA chain, as one JSON value, expiring at the certificate's `expiration`. Nothing is
 * cached by Vault (the key is not stored), so every call issues a new certificate.
 */
export async function issueCertificate(session: VaultSession, at: Located, ctx: ReadContext): Promise<ResolvedSecret> {
  const id = { ref: String(ctx.ref), provider: ctx.provider };
  if (ctx.ref.params['version'] !== undefined) throw new InvalidSecretRefError('PKI issue refs take no version', id);
  if (ctx.ref.params['common_name'] === undefined) throw new InvalidSecretRefError('a PKI issue ref needs ?common_name=…', id);
  const body: Record<string, string | boolean> = {};
  for (const name of PKI_PARAMS) {
    const v = ctx.ref.params[name];
    if (v !== undefined) body[name] = BOOLEAN_PARAMS.has(name) ? v === 'true' : v;
  }
  let response: unknown;
  try {
    // Each attempt issues a certificate; a retry after a lost answer only wastes one.
    response = await session.call({ method: 'POST', path: encodePath([...at.mount.segments, ...at.rest]), body, signal: ctx.signal });
  } catch (err) {
    throw toSecretsError(err, id);
  }
  const env = parseEnvelope(response);
  const data = env.data ?? {};
  if (typeof data['certificate'] !== 'string' || typeof data['private_key'] !== 'string') {
    throw new ProviderError('Vault PKI answered without certificate and private_key', id);
  }
  const expiresAt = parseExpiration(data['expiration']);
  const value = {
    certificate: data['certificate'],
    private_key: data['private_key'],
    private_key_type: data['private_key_type'],
    issuing_ca: data['issuing_ca'],
    ca_chain: Array.isArray(data['ca_chain']) ? data['ca_chain'] : typeof data['issuing_ca'] === 'string' ? [data['issuing_ca']] : [],
    serial_number: data['serial_number'],
    expiration: expiresAt === undefined ? undefined : expiresAt.getTime() / 1000,
  };
  const resolved = withLease({ value: JSON.stringify(value), ...(typeof data['serial_number'] === 'string' ? { version: data['serial_number'] } : {}) }, env, ctx.now);
  // The certificate's own expiry wins over a lease's.
  return expiresAt === undefined ? resolved : { ...resolved, expiresAt };
}
