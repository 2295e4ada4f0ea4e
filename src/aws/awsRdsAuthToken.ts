import { ConfigError, ProviderError, isConnectorSecretsError } from '../errors.js';
import { createCredentialHandle, type CredentialHandle, type HandleOptions, type IssuedCredential } from '../handles/CredentialHandle.js';
import type { Redactor } from '../redact/redactor.js';
import { Secret } from '../secret.js';
import { loadRdsSigner } from './loadAwsSdk.js';
import { awsRegion } from './region.js';
import { toSecretsError } from './toSecretsError.js';
import { isAwsCredentialsHandle, type AwsCredentialIdentity, type AwsCredentialIdentityProvider, type AwsCredentialsHandle } from './types.js';

/**
 * Options of {@link awsRdsAuthToken}. The handle options (`refreshWindowMs`, `clock`, …) tune the
 * refresh.
 *
 * @example
 * ```ts
 * awsRdsAuthToken({ hostname: 'orders.cluster-abc.eu-west-1.rds.amazonaws.com', port: 5432, username: 'etl_iam', region: 'eu-west-1', credentials: aws });
 * ```
 */
export interface AwsRdsAuthTokenOptions extends HandleOptions {
  /** The database endpoint, as the client connects to it. */
  readonly hostname: string;
  /** The database port. */
  readonly port: number;
  /** The database user with the `rds_iam` grant. */
  readonly username: string;
  /**
   * The database's region.
   * @default the AWS_REGION (else AWS_DEFAULT_REGION) variable
   */
  readonly region?: string;
  /**
   * The credentials that sign the token; a token never outlives them.
   * @default the AWS SDK's default chain
   */
  readonly credentials?: AwsCredentialsHandle | AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * Learns every token, so it is masked in logs.
   * @default none; pass `secrets.redactor`
   */
  readonly redactor?: Redactor;
  /**
   * The environment variables read for defaults.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const PROVIDER = 'aws-rds-signer';

/**
 * A handle of RDS IAM database authentication tokens (`@aws-sdk/rds-signer`): each is a SigV4
 * presigned `connect` URL that lives 15 minutes (or less, when the signing credentials expire
 * sooner), refreshed ahead of expiry with jitter. The connector stores no database password:
 * hand the handle to the driver as its password function, which drivers call for each new
 * connection.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { awsCredentials, awsRdsAuthToken } from 'connector-secrets/aws';
 *
 * const token = awsRdsAuthToken({ hostname, port: 5432, username: 'etl_iam', region: 'eu-west-1', credentials: awsCredentials() });
 * const pool = new pg.Pool({ host: hostname, user: 'etl_iam', ssl: true, password: () => token.get().then((s) => s.reveal()) });
 * ```
 */
export function awsRdsAuthToken(options: AwsRdsAuthTokenOptions): CredentialHandle<string> {
  const env = options.env ?? process.env;
  const { hostname, port, username } = options;
  if (typeof hostname !== 'string' || hostname === '' || /[/?#@\s]/.test(hostname)) throw new ConfigError('hostname must be a database host name', { provider: PROVIDER });
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new ConfigError('port must be a whole number from 1 to 65535', { provider: PROVIDER });
  if (typeof username !== 'string' || username === '') throw new ConfigError('username is required', { provider: PROVIDER });
  const region = awsRegion(options.region, env);
  if (region === undefined || region === '') throw new ConfigError('no AWS region: pass awsRdsAuthToken({ region }) or set AWS_REGION', { provider: PROVIDER });
  const credentials = isAwsCredentialsHandle(options.credentials) ? options.credentials.toAwsCredentialProvider() : options.credentials;
  const ref = `aws-rds-token://${hostname}:${port}/${encodeURIComponent(username)}`;
  let counter = 0;

  return createCredentialHandle<string>(
    {
      ref,
      async fetch(): Promise<IssuedCredential<string>> {
        let token: string;
        let signedWith: AwsCredentialIdentity | undefined;
        try {
          const { Signer } = await loadRdsSigner();
          // Resolve the credentials once, so the token's expiry can respect theirs.
          signedWith = typeof credentials === 'function' ? await credentials() : credentials;
          token = await new Signer({ hostname, port, username, region, ...(signedWith === undefined ? {} : { credentials: signedWith }) }).getAuthToken();
        } catch (err) {
          throw isConnectorSecretsError(err) ? err : toSecretsError(err, { ref, provider: PROVIDER }, 'AWS RDS signer');
        }
        const expiresAt = Math.min(tokenExpiry(token, ref), signedWith?.expiration?.getTime() ?? Infinity);
        options.redactor?.add(token, { ref });
        return { secret: new Secret(token, { ref, provider: PROVIDER, version: `token-${++counter}`, expiresAt: new Date(expiresAt) }), expiresAt };
      },
    },
    options,
  );
}

/** X-Amz-Date + X-Amz-Expires of a presigned token, in epoch ms. */
function tokenExpiry(token: string, ref: string): number {
  const query = new URLSearchParams(token.slice(token.indexOf('?') + 1));
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const seconds = Number(query.get('X-Amz-Expires'));
  if (m === null || !(seconds > 0)) throw new ProviderError('the RDS signer returned a token without X-Amz-Date / X-Amz-Expires', { ref, provider: PROVIDER });
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + seconds * 1000;
}
