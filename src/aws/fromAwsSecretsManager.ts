import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ConfigError, ProviderError } from '../errors.js';
import type { ResolveContext, ResolvedSecret, SecretDescription, SecretMetadata, SecretProvider } from '../provider.js';
import type { SecretRef } from '../ref/types.js';
import { loadSecretsManager, type SecretsManagerModule } from './loadAwsSdk.js';
import { metadataOf } from './metadata.js';
import { awsRegion } from './region.js';
import { AWS_SM_PARAMS, answers, locate, type SecretLocator } from './secretId.js';
import { batchErrorToSecretsError, isExpiredToken, toSecretsError } from './toSecretsError.js';
import { isAwsCredentialsHandle, type AwsCredentialIdentity, type AwsCredentialIdentityProvider, type AwsCredentialsHandle } from './types.js';

/**
 * Options of {@link fromAwsSecretsManager}.
 *
 * @example
 * ```ts
 * fromAwsSecretsManager({ region: 'eu-west-1', credentials: awsCredentials({ assumeRole: { roleArn, sessionName: 'orders-sync' } }) });
 * ```
 */
export interface FromAwsSecretsManagerInit {
  /**
   * The AWS region.
   * @default the AWS_REGION (else AWS_DEFAULT_REGION) variable; an error when none is set
   */
  readonly region?: string;
  /**
   * A service endpoint other than AWS's (a VPC endpoint, a test double).
   * @default AWS's regional endpoint
   * @example
   * ```ts
   * endpoint: 'https://vpce-0abc.secretsmanager.eu-west-1.vpce.amazonaws.com'
   * ```
   */
  readonly endpoint?: string;
  /**
   * The credentials. An {@link AwsCredentialsHandle} is preferred: a request refused with
   * `ExpiredTokenException` then refreshes it and is retried once.
   * @default the AWS SDK's default chain (environment, SSO, web identity, container, instance)
   */
  readonly credentials?: AwsCredentialsHandle | AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * A Secrets Manager client of your own; `region`, `endpoint`, `credentials`, `maxAttempts` and
   * `requestTimeoutMs` are then ignored, and `close()` leaves it open.
   * @default a client the provider makes on its first request
   */
  readonly client?: SecretsManagerClient;
  /**
   * Attempts per call, the SDK's own retries included (standard mode: exponential backoff with
   * full jitter, for throttling, 5xx and network errors).
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * The longest one HTTP attempt may take.
   * @default 10_000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Whether to read each secret's tags and rotation facts (`DescribeSecret`, cached for
   * `metadataTtlMs`) as metadata. Without them, the environment guard sees untagged secrets.
   * @default true
   */
  readonly tags?: boolean;
  /**
   * How long a secret's tags are reused before `DescribeSecret` is asked again.
   * @default 300_000 (5 minutes)
   */
  readonly metadataTtlMs?: number;
  /**
   * A secret name prefix that logical `secret://a/b` refs are read below: the secret named
   * `<logicalPrefix>a/b`. When unset, the provider does not resolve logical refs.
   * @default undefined
   * @example
   * ```ts
   * logicalPrefix: 'prod/' // secret://orders-api/client-secret → the secret prod/orders-api/client-secret
   * ```
   */
  readonly logicalPrefix?: string;
  /**
   * The provider name shown in errors and on `Secret.provider`.
   * @default 'aws-sm'
   */
  readonly name?: string;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
}

/** BatchGetSecretValue takes at most this many ids. */
const BATCH = 20;
/** A ListSecrets filter takes at most this many values. */
const LIST_FILTER = 10;

interface Runtime {
  readonly sdk: SecretsManagerModule;
  readonly client: SecretsManagerClient;
  readonly own: boolean;
}

/**
 * A provider for AWS Secrets Manager, serving
 * `aws-sm://<name-or-ARN>[?versionStage=AWSCURRENT|AWSPENDING|AWSPREVIOUS|versionId=<id>][#field]`.
 *
 * - `SecretString` is text (JSON fields through `#field`), `SecretBinary` bytes; `VersionId` is
 *   the version.
 * - Tags become metadata (`environment`, `owner`, `purpose`, `sensitivity`, `rotation`), so the
 *   environment guard and the policy apply; `rotationEnabled`, `lastRotatedAt`, `nextRotationAt`
 *   and `arn` join them as facts.
 * - A cold `getMany` / `load` reads its refs with `BatchGetSecretValue` (20 per call).
 * - `rotate(ref, value)` writes a new AWSCURRENT version with `PutSecretValue` and a
 *   `ClientRequestToken` (a retry cannot write twice); the old one stays readable as AWSPREVIOUS.
 * - Errors: `ResourceNotFoundException` and secrets marked for deletion → `SECRET_NOT_FOUND`;
 *   `AccessDeniedException`, `DecryptionFailure`, refused credentials → `ACCESS_DENIED`;
 *   throttling, 5xx, network errors and timeouts → `PROVIDER_UNAVAILABLE` after the SDK's retries.
 *   AWS's messages are never passed on (see {@link AwsApiError}).
 *
 * `@aws-sdk/client-secrets-manager` (an optional peer dependency) is loaded on the first request.
 *
 * @example
 * ```ts
 * import { createSecrets } from 'connector-secrets';
 * import { awsCredentials, fromAwsSecretsManager } from 'connector-secrets/aws';
 *
 * const secrets = createSecrets({ environment: 'prod', providers: [fromAwsSecretsManager({ region: 'eu-west-1' })] });
 * const password = await secrets.get('aws-sm://prod/orders-db#password');
 * ```
 */
export function fromAwsSecretsManager(init: FromAwsSecretsManagerInit = {}): SecretProvider {
  const name = init.name ?? 'aws-sm';
  const maxAttempts = init.maxAttempts ?? 3;
  const requestTimeoutMs = init.requestTimeoutMs ?? 10_000;
  const metadataTtlMs = init.metadataTtlMs ?? 300_000;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) throw new ConfigError('maxAttempts must be a whole number of at least 1', { provider: name });
  if (!(requestTimeoutMs > 0)) throw new ConfigError('requestTimeoutMs must be a positive number of milliseconds', { provider: name });
  if (!(metadataTtlMs >= 0)) throw new ConfigError('metadataTtlMs must be a number of milliseconds, 0 or more', { provider: name });
  const handle = isAwsCredentialsHandle(init.credentials) ? init.credentials : undefined;
  const describedCache = new Map<string, { metadata: SecretMetadata; until: number }>();
  let runtime: Promise<Runtime> | undefined;
  let closed = false;

  const start = async (env: ResolveContext['env']): Promise<Runtime> => {
    const sdk = await loadSecretsManager();
    if (init.client !== undefined) return { sdk, client: init.client, own: false };
    const region = awsRegion(init.region, env);
    if (region === undefined || region === '') throw new ConfigError('no AWS region: pass fromAwsSecretsManager({ region }) or set AWS_REGION', { provider: name });
    const credentials = handle !== undefined ? handle.toAwsCredentialProvider() : (init.credentials as AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined);
    const client = new sdk.SecretsManagerClient({
      region,
      maxAttempts,
      // Without throwOnRequestTimeout, current SDK releases only log a warning when the timeout passes.
      requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
      ...(init.endpoint === undefined ? {} : { endpoint: init.endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
    });
    return { sdk, client, own: true };
  };

  const ready = (ctx: ResolveContext): Promise<Runtime> => {
    if (closed) throw new ConfigError('the AWS Secrets Manager provider was closed', { provider: name });
    runtime ??= start(ctx.env).catch((err: unknown) => {
      runtime = undefined;
      throw err;
    });
    return runtime;
  };

  /**
   * One SDK call. With a credentials handle, a call refused for expired session credentials
   * refreshes the handle (coalesced with any other caller's refresh) and is made once more.
   */
  const send = <T>(call: () => Promise<T>): Promise<T> => (handle === undefined ? call() : handle.withCredential(() => call(), { isAuthError: isExpiredToken }));

  const remember = (secretId: string, metadata: SecretMetadata, now: number): SecretMetadata => {
    if (describedCache.size >= 10_000) describedCache.delete(describedCache.keys().next().value!);
    describedCache.set(secretId, { metadata, until: now + metadataTtlMs });
    return metadata;
  };

  const cachedFacts = (secretId: string, now: number): SecretMetadata | undefined => {
    const cached = describedCache.get(secretId);
    return cached !== undefined && now < cached.until ? cached.metadata : undefined;
  };

  /** Tags and rotation facts of a secret (DescribeSecret), reused for `metadataTtlMs`. */
  const describe = async (rt: Runtime, secretId: string, ctx: ResolveContext): Promise<SecretMetadata | undefined> => {
    if (init.tags === false) return undefined;
    const known = cachedFacts(secretId, ctx.now());
    if (known !== undefined) return known;
    const out = await send(() => rt.client.send(new rt.sdk.DescribeSecretCommand({ SecretId: secretId }), { abortSignal: ctx.signal }));
    return remember(secretId, metadataOf(out), ctx.now());
  };

  /**
   * Tags of many secrets in few calls: secrets named by name are listed with ListSecrets (a
   * `name` filter of up to 10 names per call, all calls concurrent); ARNs, names the listing does
   * not return, and every name when ListSecrets is refused (it cannot be scoped to resources, so
   * least-privilege roles often lack it) are described one by one.
   */
  const describeMany = async (rt: Runtime, ids: readonly string[], ctx: ResolveContext): Promise<PromiseSettledResult<SecretMetadata | undefined>[]> => {
    if (init.tags === false) return ids.map(() => ({ status: 'fulfilled', value: undefined }));
    const now = ctx.now();
    const names = ids.filter((id) => !id.startsWith('arn:') && cachedFacts(id, now) === undefined);
    const lists: Promise<void>[] = [];
    for (let i = 0; i < names.length; i += LIST_FILTER) {
      const wanted = new Set(names.slice(i, i + LIST_FILTER));
      lists.push(
        (async () => {
          let token: string | undefined;
          do {
            const page = await send(() =>
              rt.client.send(
                new rt.sdk.ListSecretsCommand({ Filters: [{ Key: 'name', Values: [...wanted] }], MaxResults: 100, ...(token === undefined ? {} : { NextToken: token }) }),
                { abortSignal: ctx.signal },
              ),
            );
            // The name filter matches prefixes: only exact names are taken.
            for (const entry of page.SecretList ?? []) if (entry.Name !== undefined && wanted.has(entry.Name)) remember(entry.Name, metadataOf(entry), now);
            token = page.NextToken;
          } while (token !== undefined);
        })().catch(() => {
          // Refused or failed: DescribeSecret below answers for these names, with its own errors.
        }),
      );
    }
    await Promise.all(lists);
    return Promise.allSettled(ids.map((id) => describe(rt, id, ctx)));
  };

  const resolved = (ids: { ref: string; provider: string }, out: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined; VersionId?: string | undefined }, metadata: SecretMetadata | undefined): ResolvedSecret => {
    const value = out.SecretString ?? (out.SecretBinary === undefined ? undefined : Uint8Array.from(out.SecretBinary));
    if (value === undefined) throw new ProviderError('AWS Secrets Manager returned neither SecretString nor SecretBinary', ids);
    return {
      value,
      ...(out.VersionId === undefined ? {} : { version: out.VersionId }),
      ...(metadata === undefined ? {} : { metadata }),
    };
  };

  const resolveOne = async (rt: Runtime, ref: SecretRef, at: SecretLocator, ctx: ResolveContext): Promise<ResolvedSecret> => {
    const ids = { ref: String(ref), provider: name };
    const [out, metadata] = await Promise.all([
      send(() =>
        rt.client.send(new rt.sdk.GetSecretValueCommand({ SecretId: at.secretId, VersionId: at.versionId, VersionStage: at.versionStage }), { abortSignal: ctx.signal }),
      ),
      describe(rt, at.secretId, ctx),
    ]);
    return resolved(ids, out, metadata);
  };

  /** Up to 20 refs (AWSCURRENT, distinct ids) in one BatchGetSecretValue call. */
  const batch = async (rt: Runtime, items: readonly { ref: SecretRef; at: SecretLocator }[], ctx: ResolveContext): Promise<PromiseSettledResult<ResolvedSecret>[]> => {
    const ids = [...new Set(items.map((i) => i.at.secretId))];
    const [out, described] = await Promise.all([
      send(() => rt.client.send(new rt.sdk.BatchGetSecretValueCommand({ SecretIdList: ids }), { abortSignal: ctx.signal })),
      describeMany(rt, ids, ctx),
    ]);
    return items.map(({ ref, at }): PromiseSettledResult<ResolvedSecret> => {
      const refIds = { ref: String(ref), provider: name };
      try {
        const error = out.Errors?.find((e) => e.SecretId === at.secretId);
        if (error !== undefined) throw batchErrorToSecretsError(error.ErrorCode, error.Message, refIds);
        const value = out.SecretValues?.find((v) => answers(at.secretId, v.ARN, v.Name));
        // No answer for this id (a page AWS cut short): the client asks resolve() for it.
        if (value === undefined) throw new ProviderError('BatchGetSecretValue gave no answer for this secret', refIds);
        const facts = described[ids.indexOf(at.secretId)]!;
        if (facts.status === 'rejected') throw toSecretsError(facts.reason, refIds);
        return { status: 'fulfilled', value: resolved(refIds, value, facts.value) };
      } catch (err) {
        return { status: 'rejected', reason: toSecretsError(err, refIds) };
      }
    });
  };

  return {
    name,
    schemes: ['aws-sm'],
    logical: init.logicalPrefix !== undefined,
    params: [...AWS_SM_PARAMS],
    ...(init.environment === undefined ? {} : { environment: init.environment }),

    async resolve(ref, ctx): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = locate(ref, name, init.logicalPrefix);
        return await resolveOne(await ready(ctx), ref, at, ctx);
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    // Always asked afresh (describe is how an operator checks rotation), and the tag cache is refreshed with it.
    async describe(ref, ctx): Promise<SecretDescription> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = locate(ref, name, init.logicalPrefix);
        const rt = await ready(ctx);
        const out = await send(() => rt.client.send(new rt.sdk.DescribeSecretCommand({ SecretId: at.secretId }), { abortSignal: ctx.signal }));
        const metadata = remember(at.secretId, metadataOf(out), ctx.now());
        const current = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) => stages?.includes('AWSCURRENT'))?.[0];
        return {
          ...(current === undefined ? {} : { version: current }),
          ...(out.CreatedDate instanceof Date ? { createdAt: out.CreatedDate } : {}),
          ...(out.LastChangedDate instanceof Date ? { updatedAt: out.LastChangedDate } : {}),
          ...(out.LastRotatedDate instanceof Date ? { lastRotatedAt: out.LastRotatedDate } : {}),
          ...(out.NextRotationDate instanceof Date ? { nextRotationAt: out.NextRotationDate } : {}),
          metadata,
        };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async resolveMany(refs, given): Promise<PromiseSettledResult<ResolvedSecret>[]> {
      // One dependent signal for the many concurrent SDK calls of this read, so they do not pile
      // listeners (and a MaxListenersExceededWarning) onto the client's shared signal.
      const signal = AbortSignal.any([given.signal]);
      setMaxListeners(0, signal);
      const ctx: ResolveContext = { ...given, signal };
      const rt = await ready(ctx);
      const results: PromiseSettledResult<ResolvedSecret>[] = new Array(refs.length);
      const current: { index: number; ref: SecretRef; at: SecretLocator }[] = [];
      const single: Promise<void>[] = [];
      refs.forEach((ref, index) => {
        let at: SecretLocator;
        try {
          at = locate(ref, name, init.logicalPrefix);
        } catch (err) {
          results[index] = { status: 'rejected', reason: err };
          return;
        }
        // BatchGetSecretValue reads AWSCURRENT only; pinned versions and stages are read one by one.
        if (at.versionId !== undefined || at.versionStage !== undefined) {
          single.push(
            resolveOne(rt, ref, at, ctx).then(
              (value) => void (results[index] = { status: 'fulfilled', value }),
              (err: unknown) => void (results[index] = { status: 'rejected', reason: toSecretsError(err, { ref: String(ref), provider: name }) }),
            ),
          );
        } else current.push({ index, ref, at });
      });
      // Distinct secret ids, 20 to a call; calls run concurrently.
      const byId = new Map<string, typeof current>();
      for (const item of current) byId.set(item.at.secretId, [...(byId.get(item.at.secretId) ?? []), item]);
      const idList = [...byId.keys()];
      const calls: Promise<void>[] = [];
      for (let i = 0; i < idList.length; i += BATCH) {
        const chunk = idList.slice(i, i + BATCH).flatMap((id) => byId.get(id)!);
        calls.push(
          batch(rt, chunk, ctx).then(
            (answered) => chunk.forEach((item, k) => (results[item.index] = answered[k]!)),
            async (err: unknown) => {
              // Unavailable: every ref of the call is. Refused (a role may lack
              // secretsmanager:BatchGetSecretValue but hold GetSecretValue): read them one by one.
              const mapped = toSecretsError(err, { provider: name });
              await Promise.all(
                chunk.map(async (item) => {
                  const ids = { ref: String(item.ref), provider: name };
                  results[item.index] =
                    mapped.code === 'PROVIDER_UNAVAILABLE'
                      ? { status: 'rejected', reason: toSecretsError(err, ids) }
                      : await resolveOne(rt, item.ref, item.at, ctx).then(
                          (value) => ({ status: 'fulfilled', value }) as const,
                          (e: unknown) => ({ status: 'rejected', reason: toSecretsError(e, ids) }) as const,
                        );
                }),
              );
            },
          ),
        );
      }
      await Promise.all([...single, ...calls]);
      return results;
    },

    async rotate(ref: SecretRef, value: string, ctx: ResolveContext): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = locate(ref, name, init.logicalPrefix);
        if (at.versionId !== undefined || (at.versionStage !== undefined && at.versionStage !== 'AWSCURRENT')) {
          throw new ConfigError('rotate writes a new AWSCURRENT version: give the ref without versionId or versionStage', ids);
        }
        if (ref.fieldPath !== undefined) throw new ConfigError('rotate writes the whole secret: give the ref without #field', ids);
        const rt = await ready(ctx);
        // One token for every attempt of this rotation (the SDK's retries and ours): AWS writes
        // the version once, and a retry after a lost answer gets the same version back.
        const token = randomUUID();
        const out = await send(() =>
          rt.client.send(new rt.sdk.PutSecretValueCommand({ SecretId: at.secretId, SecretString: value, ClientRequestToken: token }), { abortSignal: ctx.signal }),
        );
        describedCache.delete(at.secretId);
        return { value, ...(out.VersionId === undefined ? {} : { version: out.VersionId }) };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const rt = await runtime?.catch(() => undefined);
      describedCache.clear();
      if (rt?.own) rt.client.destroy();
    },
  };
}
