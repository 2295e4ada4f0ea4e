import type { SecretMetadata } from '../provider.js';

const SENSITIVITY = new Set<string>(['low', 'medium', 'high', 'critical']);

/** What a Secret resource (GetSecret) says about a secret, without its value. */
export interface SecretFacts {
  readonly metadata?: SecretMetadata;
  readonly expiresAt?: Date;
}

/**
 * Secret labels (non-secret by Google's design: visible to anyone with `secrets.get`) as
 * metadata: every label is kept; `env` is also read as `environment`; `sensitivity` only when it
 * is a known level. `expireTime` becomes `expiresAt` (the client refuses the secret after it) and
 * `rotation.nextRotationTime` / `rotationPeriod` become `nextRotationTime` / `rotationPeriod`
 * facts for the inventory.
 */
export function factsOf(secret: unknown): SecretFacts {
  if (typeof secret !== 'object' || secret === null) return {};
  const s = secret as { labels?: unknown; expireTime?: unknown; rotation?: { nextRotationTime?: unknown; rotationPeriod?: unknown } };
  const out: Record<string, string> = {};
  if (typeof s.labels === 'object' && s.labels !== null) {
    for (const [key, value] of Object.entries(s.labels)) {
      if (typeof value !== 'string') continue;
      if (key === 'sensitivity' && !SENSITIVITY.has(value)) continue;
      out[key] = value;
    }
  }
  if (out['environment'] === undefined && out['env'] !== undefined) out['environment'] = out['env'];
  if (typeof s.rotation?.nextRotationTime === 'string') out['nextRotationTime'] = s.rotation.nextRotationTime;
  if (typeof s.rotation?.rotationPeriod === 'string') out['rotationPeriod'] = s.rotation.rotationPeriod;
  const facts: { metadata?: SecretMetadata; expiresAt?: Date } = {};
  if (Object.keys(out).length > 0) facts.metadata = out;
  if (typeof s.expireTime === 'string') {
    const at = new Date(s.expireTime);
    if (!Number.isNaN(at.getTime())) facts.expiresAt = at;
  }
  return facts;
}
