import type { SecretMetadata } from '../provider.js';

const SENSITIVITY = new Set<string>(['low', 'medium', 'high', 'critical']);

/** The parts of a Key Vault secret's properties that become metadata. */
export interface SecretPropertiesLike {
  readonly tags?: Record<string, string> | undefined;
  readonly contentType?: string | undefined;
  readonly id?: string | undefined;
  readonly createdOn?: Date | undefined;
  readonly updatedOn?: Date | undefined;
}

/**
 * Secret tags (non-secret labels, readable with list permission alone) as metadata, so the
 * environment guard and the policy read Key Vault secrets as they read Vault ones: every tag is
 * kept (`environment`, `owner`, `purpose`, `rotation` …), `env` is also read as `environment`,
 * `sensitivity` only when it is a known level. `contentType`, the secret `id` (its URL) and the
 * version's `createdAt` / `updatedAt` (ISO 8601) join as facts.
 */
export function metadataOf(p: SecretPropertiesLike): SecretMetadata {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(p.tags ?? {})) {
    if (typeof value !== 'string') continue;
    if (key === 'sensitivity' && !SENSITIVITY.has(value)) continue;
    out[key] = value;
  }
  if (out['environment'] === undefined && out['env'] !== undefined) out['environment'] = out['env'];
  if (p.contentType !== undefined) out['contentType'] = p.contentType;
  if (p.id !== undefined) out['id'] = p.id;
  if (p.createdOn instanceof Date) out['createdAt'] = p.createdOn.toISOString();
  if (p.updatedOn instanceof Date) out['updatedAt'] = p.updatedOn.toISOString();
  return out;
}
