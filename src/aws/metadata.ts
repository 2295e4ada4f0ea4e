import type { SecretMetadata } from '../provider.js';

const SENSITIVITY = new Set<string>(['low', 'medium', 'high', 'critical']);

/** The parts of a DescribeSecret answer that become metadata. */
export interface DescribedSecret {
  readonly ARN?: string | undefined;
  readonly Tags?: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined;
  readonly RotationEnabled?: boolean | undefined;
  readonly LastRotatedDate?: Date | undefined;
  readonly NextRotationDate?: Date | undefined;
}

/**
 * Secret tags (non-secret labels by AWS's design) as metadata, so the environment guard and the
 * policy read AWS secrets as they read Vault ones: every tag is kept (`environment`, `owner`,
 * `purpose`, `rotation` …), `sensitivity` only when it is a known level. Rotation facts join as
 * text: `rotationEnabled` (`'true'`/`'false'`), `lastRotatedAt`, `nextRotationAt` (ISO 8601), and
 * the secret's `arn`.
 */
export function metadataOf(described: DescribedSecret): SecretMetadata {
  const out: Record<string, string> = {};
  for (const tag of described.Tags ?? []) {
    if (typeof tag.Key !== 'string' || typeof tag.Value !== 'string') continue;
    if (tag.Key === 'sensitivity' && !SENSITIVITY.has(tag.Value)) continue;
    out[tag.Key] = tag.Value;
  }
  if (described.ARN !== undefined) out['arn'] = described.ARN;
  if (described.RotationEnabled !== undefined) out['rotationEnabled'] = String(described.RotationEnabled);
  if (described.LastRotatedDate instanceof Date) out['lastRotatedAt'] = described.LastRotatedDate.toISOString();
  if (described.NextRotationDate instanceof Date) out['nextRotationAt'] = described.NextRotationDate.toISOString();
  return out;
}
