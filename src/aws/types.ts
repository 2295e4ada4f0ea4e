import type { CredentialHandle } from '../handles/CredentialHandle.js';

/**
 * AWS credentials, in the shape every AWS SDK v3 client takes (`AwsCredentialIdentity` of
 * `@smithy/types`, declared here so the core needs no AWS types).
 *
 * @example
 * ```ts
 * const identity: AwsCredentialIdentity = { accessKeyId: 'ASIA…', secretAccessKey: '…', sessionToken: '…', expiration: new Date() };
 * ```
 */
export interface AwsCredentialIdentity {
  /** The access key id (`AKIA…` long-term, `ASIA…` temporary). Not secret. */
  readonly accessKeyId: string;
  /** The secret access key. */
  readonly secretAccessKey: string;
  /** The session token of temporary credentials. */
  readonly sessionToken?: string;
  /** When temporary credentials stop working. */
  readonly expiration?: Date;
  /** The AWS account the credentials belong to, when known. */
  readonly accountId?: string;
  /** The credential scope, when known. */
  readonly credentialScope?: string;
}

/**
 * A function that returns AWS credentials, as any AWS SDK v3 client accepts for `credentials`.
 *
 * @example
 * ```ts
 * const s3 = new S3Client({ credentials: handle.toAwsCredentialProvider() });
 * ```
 */
export type AwsCredentialIdentityProvider = (identityProperties?: Record<string, unknown>) => Promise<AwsCredentialIdentity>;

/**
 * A {@link CredentialHandle} of AWS credentials, refreshed ahead of expiry with jitter, that
 * any AWS SDK v3 client can use.
 *
 * @example
 * ```ts
 * const aws = awsCredentials({ assumeRole: { roleArn, sessionName: 'orders-sync' } });
 * const sm = new SecretsManagerClient({ credentials: aws.toAwsCredentialProvider() });
 * ```
 */
export interface AwsCredentialsHandle extends CredentialHandle<AwsCredentialIdentity> {
  /**
   * A provider for an AWS SDK v3 client. Every call returns the handle's current credential, so
   * all clients given it share one refreshed credential (the SDK's own memoization is bypassed:
   * it would keep a credential the handle has already replaced).
   */
  toAwsCredentialProvider(): AwsCredentialIdentityProvider;
}

/** True for a handle made by `awsCredentials()` (or anything shaped like one). */
export function isAwsCredentialsHandle(value: unknown): value is AwsCredentialsHandle {
  return typeof value === 'object' && value !== null && typeof (value as AwsCredentialsHandle).toAwsCredentialProvider === 'function' && typeof (value as AwsCredentialsHandle).refresh === 'function';
}
