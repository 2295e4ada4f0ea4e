import { SecretFormatError } from '../errors.js';
import type { SecretMetadata, Sensitivity } from '../provider.js';

const SENSITIVITY = new Set<string>(['low', 'medium', 'high', 'critical']);

/** What KV v2 `custom_metadata` says about a secret. */
export interface CustomMetadataFacts {
  readonly metadata?: SecretMetadata;
  readonly expiresAt?: Date;
}

/**
 * KV v2 `custom_metadata` (a map of strings, non-secret by Vault's design) as secret metadata:
 * every string entry is kept (`environment`, `owner`, `purpose`, `rotation` …); `sensitivity`
 * only when it is a known level; `expires_at` (RFC 3339) also becomes `expiresAt`, so the client
 * refuses the secret after it.
 *
 * @throws {@link SecretFormatError} when `expires_at` is not a timestamp (a guard relies on it).
 */
export function fromCustomMetadata(custom: unknown, ids: { ref: string; provider: string }): CustomMetadataFacts {
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(custom)) {
    if (typeof value !== 'string') continue;
    if (key === 'sensitivity' && !SENSITIVITY.has(value)) continue;
    out[key] = value;
  }
  const facts: { metadata?: SecretMetadata; expiresAt?: Date } = {};
  if (Object.keys(out).length > 0) facts.metadata = out as SecretMetadata & { sensitivity?: Sensitivity };
  const expires = out['expires_at'];
  if (expires !== undefined) {
    const at = new Date(expires);
    if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(expires)) {
      throw new SecretFormatError('custom_metadata.expires_at is not an RFC 3339 timestamp', { ...ids, issues: [{ path: 'custom_metadata.expires_at', code: 'invalid_date' }] });
    }
    facts.expiresAt = at;
  }
  return facts;
}
