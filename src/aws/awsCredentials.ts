import { readFile } from 'node:fs/promises';
import { ConfigError, isConnectorSecretsError } from '../errors.js';
import { createCredentialHandle, type HandleOptions, type IssuedCredential } from '../handles/CredentialHandle.js';
import type { Redactor } from '../redact/redactor.js';
import { Secret } from '../secret.js';
import { loadCredentialProviders, type CredentialProvidersModule } from './loadAwsSdk.js';
import { awsRegion } from './region.js';
import { toSecretsError } from './toSecretsError.js';
import { isAwsCredentialsHandle, type AwsCredentialIdentity, type AwsCredentialIdentityProvider, type AwsCredentialsHandle } from './types.js';

/**
 * `sts:AssumeRole`: temporary credentials of a role, assumed with the `source` credentials.
 *
 * @example
 * ```ts
 * { roleArn: 'arn:aws:iam::123456789012:role/etl-orders', sessionName: 'orders-sync', externalId: 'partner-42' }
 * ```
 */
export interface AwsAssumeRoleOptions {
  /** The role to assume. */
  readonly roleArn: string;
  /** The session name, shown in CloudTrail (2–64 of `[\w+=,.@-]`). */
  readonly sessionName: string;
  /**
   * The session lifetime in seconds (900 to the role's maximum; at most 3600 when chaining roles).
   * @default 3600
   */
  readonly durationSeconds?: number;
  /** The ExternalId the role's trust policy requires, if any. */
  readonly externalId?: string;
  /** Session tags (attribute-based access control). */
  readonly sessionTags?: Readonly<Record<string, string>>;
  /**
   * The credentials that call AssumeRole: another handle (role chaining) or options for one.
   * @default the AWS SDK's default chain
   */
  readonly source?: AwsCredentialsHandle | AwsCredentialsOptions;
}

/**
 * `sts:AssumeRoleWithWebIdentity` with an OIDC token file (EKS IRSA, GitHub Actions OIDC). The
 * file is read again at each refresh, so the token the platform rotates is always used.
 *
 * @example
 * ```ts
 * { roleArn: 'arn:aws:iam::123456789012:role/etl-orders', tokenFile: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' }
 * ```
 */
export interface AwsWebIdentityOptions {
  /**
   * The role to assume.
   * @default the AWS_ROLE_ARN variable
   */
  readonly roleArn?: string;
  /**
   * The token file.
   * @default the AWS_WEB_IDENTITY_TOKEN_FILE variable
   */
  readonly tokenFile?: string;
  /**
   * The session name.
   * @default the AWS_ROLE_SESSION_NAME variable, else `connector-secrets`
   */
  readonly sessionName?: string;
  /**
   * The session lifetime in seconds.
   * @default 3600
   */
  readonly durationSeconds?: number;
}

/**
 * The container credentials endpoint (ECS task roles, EKS Pod Identity).
 *
 * @example
 * ```ts
 * { fullUri: 'http://169.254.170.23/v1/credentials', authorizationTokenFile: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token' }
 * ```
 */
export interface AwsContainerOptions {
  /**
   * The endpoint (http only for loopback and the link-local container hosts).
   * @default the AWS_CONTAINER_CREDENTIALS_FULL_URI variable (or the ECS relative URI)
   */
  readonly fullUri?: string;
  /**
   * A file holding the authorization token, read at each refresh.
   * @default the AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE variable
   */
  readonly authorizationTokenFile?: string;
  /**
   * The longest one attempt may take.
   * @default 1000
   */
  readonly timeoutMs?: number;
}

/**
 * Options of {@link awsCredentials}: at most one of `assumeRole`, `webIdentity`, `container`,
 * `static`; with none, the AWS SDK's default chain. The handle options (`refreshWindowMs`,
 * `clock`, …) tune the refresh.
 *
 * @example
 * ```ts
 * awsCredentials({ assumeRole: { roleArn, sessionName: 'orders-sync' }, region: 'eu-west-1' });
 * ```
 */
export interface AwsCredentialsOptions extends HandleOptions {
  /** Assume a role (see {@link AwsAssumeRoleOptions}). */
  readonly assumeRole?: AwsAssumeRoleOptions;
  /** Assume a role with a web identity token file (see {@link AwsWebIdentityOptions}). */
  readonly webIdentity?: AwsWebIdentityOptions;
  /** Read the container credentials endpoint; `true` takes everything from the environment. */
  readonly container?: AwsContainerOptions | true;
  /** Fixed credentials (tests, local runs). */
  readonly static?: AwsCredentialIdentity;
  /**
   * The STS region.
   * @default the AWS_REGION (else AWS_DEFAULT_REGION) variable, else `us-east-1`
   */
  readonly region?: string;
  /**
   * An STS endpoint other than AWS's (a VPC endpoint, a test double).
   * @default AWS's regional STS endpoint (or AWS_ENDPOINT_URL_STS)
   */
  readonly stsEndpoint?: string;
  /**
   * Attempts per STS call, the SDK's own retries included.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * The longest one STS call may take (ignored when `stsClientConfig` has a `requestHandler`).
   * @default 10_000
   */
  readonly requestTimeoutMs?: number;
  /**
   * More configuration of the STS client (AssumeRole, web identity, default chain), for example
   * a `requestHandler` that goes through a proxy.
   * @default {}
   * @example
   * ```ts
   * stsClientConfig: { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsProxyAgent(proxyUrl) }) }
   * ```
   */
  readonly stsClientConfig?: Readonly<Record<string, unknown>>;
  /**
   * Learns every credential's secret key and session token, so they are masked in logs.
   * @default none; pass `secrets.redactor`
   */
  readonly redactor?: Redactor;
  /**
   * The environment variables read for defaults.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const PROVIDER = 'aws-credentials';

/** One way to get credentials, as a fresh fetch each call (no memoization: the handle is the memo). */
type Fetcher = (sdk: CredentialProvidersModule) => Promise<AwsCredentialIdentity>;

/**
 * An auto-refreshing handle of AWS credentials over `@aws-sdk/credential-providers`: assumed
 * roles (with role chaining), web identity from a token file (re-read at each refresh),
 * container credentials, static ones, or the SDK's default chain. It refreshes at a jittered
 * 2/3–3/4 of the lifetime (never later than 5 minutes before expiry), single-flights, and while
 * STS is down serves the credential it holds until that one really expires.
 *
 * `handle.toAwsCredentialProvider()` gives any AWS SDK v3 client the current credential, so
 * all clients of a connector share one refresh.
 *
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { awsCredentials } from 'connector-secrets/aws';
 *
 * const aws = awsCredentials({ assumeRole: { roleArn: 'arn:aws:iam::123456789012:role/etl-orders', sessionName: 'orders-sync' } });
 * const s3 = new S3Client({ region: 'eu-west-1', credentials: aws.toAwsCredentialProvider() });
 * ```
 */
export function awsCredentials(options: AwsCredentialsOptions = {}): AwsCredentialsHandle {
  const env = options.env ?? process.env;
  const kinds = (['assumeRole', 'webIdentity', 'container', 'static'] as const).filter((k) => options[k] !== undefined);
  if (kinds.length > 1) throw new ConfigError(`awsCredentials takes one of assumeRole, webIdentity, container, static; got ${kinds.join(' and ')}`, { provider: PROVIDER });
  const kind = kinds[0] ?? 'default';
  const region = awsRegion(options.region, env) ?? 'us-east-1';
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  if (!(requestTimeoutMs > 0)) throw new ConfigError('requestTimeoutMs must be a positive number of milliseconds', { provider: PROVIDER });
  const clientConfig = {
    // A hung STS call would hold the handle's single refresh forever; without
    // throwOnRequestTimeout, current SDK releases only log a warning when the timeout passes.
    requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
    ...options.stsClientConfig,
    region,
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.stsEndpoint === undefined ? {} : { endpoint: options.stsEndpoint }),
  };
  const owned: AwsCredentialsHandle[] = [];
  const { ref, fetcher } = makeFetcher(kind, options, env, clientConfig, owned);
  let counter = 0;

  const handle = createCredentialHandle<AwsCredentialIdentity>(
    {
      ref,
      async fetch(): Promise<IssuedCredential<AwsCredentialIdentity>> {
        let identity: AwsCredentialIdentity;
        try {
          identity = await fetcher(await loadCredentialProviders());
        } catch (err) {
          throw credentialError(err, ref);
        }
        if (typeof identity?.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string') {
          throw new ConfigError('the credential source returned no access key', { ref, provider: PROVIDER });
        }
        options.redactor?.add(identity.secretAccessKey, { ref });
        if (identity.sessionToken !== undefined) options.redactor?.add(identity.sessionToken, { ref });
        const expiresAt = identity.expiration instanceof Date ? identity.expiration.getTime() : undefined;
        const secret = new Secret<AwsCredentialIdentity>(Object.freeze({ ...identity }), {
          ref,
          provider: PROVIDER,
          version: `${identity.accessKeyId}#${++counter}`,
          ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt) }),
        });
        return expiresAt === undefined ? { secret } : { secret, expiresAt };
      },
      closed() {
        for (const h of owned) void h.close();
      },
    },
    options,
  );

  const provider: AwsCredentialIdentityProvider = async () => (await handle.get()).reveal();
  // The AWS SDK memoizes a credentials function unless it is marked as memoized; its memo would
  // keep a credential this handle has already replaced, so the handle is the one memo.
  Object.defineProperty(provider, 'memoized', { value: true });
  return Object.assign(handle, { toAwsCredentialProvider: () => provider });
}

/** The ref (for errors and events) and the fetch of one credential kind. */
function makeFetcher(
  kind: 'default' | 'assumeRole' | 'webIdentity' | 'container' | 'static',
  options: AwsCredentialsOptions,
  env: Readonly<Record<string, string | undefined>>,
  clientConfig: { region: string; maxAttempts: number; endpoint?: string; [key: string]: unknown },
  owned: AwsCredentialsHandle[],
): { ref: string; fetcher: Fetcher } {
  switch (kind) {
    case 'static': {
      const identity = options.static!;
      return { ref: 'aws-credentials://static', fetcher: async () => identity };
    }
    case 'assumeRole': {
      const role = options.assumeRole!;
      if (typeof role.roleArn !== 'string' || !role.roleArn.startsWith('arn:')) throw new ConfigError('assumeRole.roleArn must be a role ARN', { provider: PROVIDER });
      if (typeof role.sessionName !== 'string' || role.sessionName === '') throw new ConfigError('assumeRole.sessionName is required', { provider: PROVIDER });
      let source: AwsCredentialIdentityProvider | undefined;
      if (isAwsCredentialsHandle(role.source)) source = role.source.toAwsCredentialProvider();
      else if (role.source !== undefined) {
        const nested = awsCredentials({ region: clientConfig.region, ...(clientConfig.endpoint === undefined ? {} : { stsEndpoint: clientConfig.endpoint }), ...role.source, ...pick(options) });
        owned.push(nested);
        source = nested.toAwsCredentialProvider();
      }
      let call: AwsCredentialIdentityProvider | undefined;
      return {
        ref: `aws-credentials://assume-role/${role.roleArn}`,
        fetcher: (sdk) => {
          call ??= sdk.fromTemporaryCredentials({
            params: {
              RoleArn: role.roleArn,
              RoleSessionName: role.sessionName,
              DurationSeconds: role.durationSeconds ?? 3600,
              ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
              ...(role.sessionTags === undefined ? {} : { Tags: Object.entries(role.sessionTags).map(([Key, Value]) => ({ Key, Value })) }),
            },
            ...(source === undefined ? {} : { masterCredentials: source }),
            clientConfig,
          });
          return call();
        },
      };
    }
    case 'webIdentity': {
      const web = options.webIdentity!;
      const roleArn = web.roleArn ?? env['AWS_ROLE_ARN'];
      const tokenFile = web.tokenFile ?? env['AWS_WEB_IDENTITY_TOKEN_FILE'];
      if (roleArn === undefined || roleArn === '') throw new ConfigError('webIdentity needs roleArn (or AWS_ROLE_ARN)', { provider: PROVIDER });
      if (tokenFile === undefined || tokenFile === '') throw new ConfigError('webIdentity needs tokenFile (or AWS_WEB_IDENTITY_TOKEN_FILE)', { provider: PROVIDER });
      const sessionName = web.sessionName ?? (env['AWS_ROLE_SESSION_NAME'] || 'connector-secrets');
      const ref = `aws-credentials://web-identity/${roleArn}`;
      return {
        ref,
        fetcher: async (sdk) => {
          const token = await readToken(tokenFile, 'webIdentity.tokenFile', ref);
          return sdk.fromWebToken({ roleArn, webIdentityToken: token, roleSessionName: sessionName, durationSeconds: web.durationSeconds ?? 3600, clientConfig })();
        },
      };
    }
    case 'container': {
      const c = options.container === true ? {} : options.container!;
      const fullUri = c.fullUri ?? env['AWS_CONTAINER_CREDENTIALS_FULL_URI'];
      const relativeUri = env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];
      const tokenFile = c.authorizationTokenFile ?? env['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'];
      if (!fullUri && !relativeUri) throw new ConfigError('container needs fullUri (or AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI)', { provider: PROVIDER });
      const ref = 'aws-credentials://container';
      return {
        ref,
        fetcher: async (sdk) => {
          // The token file is re-read at each refresh (EKS Pod Identity rotates it).
          const token = tokenFile ? await readToken(tokenFile, 'container.authorizationTokenFile', ref) : env['AWS_CONTAINER_AUTHORIZATION_TOKEN'];
          return sdk.fromHttp({
            ...(fullUri ? { awsContainerCredentialsFullUri: fullUri } : { awsContainerCredentialsRelativeUri: relativeUri! }),
            ...(token ? { awsContainerAuthorizationToken: token } : {}),
            timeout: c.timeoutMs ?? 1000,
            maxRetries: 2,
          })();
        },
      };
    }
    default:
      return {
        ref: 'aws-credentials://default',
        // A new chain per fetch: the chain memoizes, and a refresh must really fetch.
        fetcher: (sdk) => sdk.fromNodeProviderChain({ clientConfig })(),
      };
  }
}

/** The handle options a nested source handle inherits (same clock and random source). */
function pick(options: AwsCredentialsOptions): Partial<AwsCredentialsOptions> {
  return {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.redactor === undefined ? {} : { redactor: options.redactor }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.stsClientConfig === undefined ? {} : { stsClientConfig: options.stsClientConfig }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  };
}

async function readToken(file: string, what: string, ref: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${what}: ${file} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { ref, provider: PROVIDER, cause: err });
  }
  const token = text.trim();
  if (token === '') throw new ConfigError(`${what}: ${file} is empty`, { ref, provider: PROVIDER });
  return token;
}

/** An STS / credential-source failure as one of ours; a missing source (no credentials anywhere) is a ConfigError. */
function credentialError(err: unknown, ref: string) {
  if (isConnectorSecretsError(err)) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'CredentialsProviderError' && (err as { $metadata?: unknown }).$metadata === undefined) {
    return new ConfigError('no AWS credentials could be found by the credential source (CredentialsProviderError)', { ref, provider: PROVIDER, cause: new Error('CredentialsProviderError') });
  }
  return toSecretsError(err, { ref, provider: PROVIDER }, 'AWS STS');
}
