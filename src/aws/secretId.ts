import { InvalidSecretRefError } from '../errors.js';
import type { SecretRef } from '../ref/types.js';

/** The ref params of `aws-sm://` refs besides the reserved ones. */
export const AWS_SM_PARAMS = ['versionStage', 'versionId'] as const;

/** What one `aws-sm://` ref asks Secrets Manager for. */
export interface SecretLocator {
  /** A secret name (`orders/db`) or ARN. */
  readonly secretId: string;
  readonly versionId?: string;
  readonly versionStage?: string;
}

const ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

/**
 * `aws-sm://<name-or-ARN>[?versionStage=…|versionId=…][#field]` as a Secrets Manager request. The
 * path is the secret id as written: a name with slashes (`orders/db`) or a full ARN with its
 * colons; a logical `secret://a/b` names `<logicalPrefix>a/b`. Messages name the part that is
 * wrong, never the value.
 */
export function locate(ref: SecretRef, provider: string, logicalPrefix?: string): SecretLocator {
  const ids = { ref: String(ref), provider };
  if (ref.logical && logicalPrefix === undefined) throw new InvalidSecretRefError('this AWS Secrets Manager provider has no logicalPrefix, so it serves aws-sm:// refs only', ids);
  if (ref.path.startsWith('/')) throw new InvalidSecretRefError('aws-sm refs name a secret or ARN after aws-sm:// without a leading "/"', ids);
  // A logical secret://a/b is the secret named <logicalPrefix>a/b.
  const secretId = ref.logical ? `${logicalPrefix}${ref.path}` : ref.path;
  if (secretId.startsWith('arn:') && !ARN.test(secretId)) {
    throw new InvalidSecretRefError('the ARN is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)', ids);
  }
  if (secretId.length > 2048) throw new InvalidSecretRefError('the secret id is longer than 2048 characters', ids);
  for (const reserved of ['version', 'stage'] as const) {
    if (ref.params[reserved] !== undefined) {
      throw new InvalidSecretRefError(`aws-sm refs take ?${reserved === 'version' ? 'versionId' : 'versionStage'}=…, not ?${reserved}=`, ids);
    }
  }
  const versionId = ref.params['versionId'];
  const versionStage = ref.params['versionStage'];
  if (versionId !== undefined && versionStage !== undefined) throw new InvalidSecretRefError('give versionId or versionStage, not both', ids);
  if (versionId !== undefined && !VERSION_ID.test(versionId)) throw new InvalidSecretRefError('versionId must be 32 to 64 letters, digits or dashes', ids);
  if (versionStage !== undefined && (versionStage.length === 0 || versionStage.length > 256)) throw new InvalidSecretRefError('versionStage must be 1 to 256 characters', ids);
  return {
    secretId,
    ...(versionId === undefined ? {} : { versionId }),
    ...(versionStage === undefined ? {} : { versionStage }),
  };
}

/** True when a BatchGetSecretValue answer (`ARN`, `Name`) is the secret `secretId` names. */
export function answers(secretId: string, arn: string | undefined, name: string | undefined): boolean {
  if (secretId === name || secretId === arn) return true;
  // A partial ARN lacks the 6-character suffix AWS appends.
  return arn !== undefined && secretId.startsWith('arn:') && arn.startsWith(`${secretId}-`) && arn.length === secretId.length + 7;
}
