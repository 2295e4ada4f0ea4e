import { ConfigError, InvalidSecretRefError, SecretFormatError } from '../errors.js';
import { systemClock, type Clock, type TimerId } from '../handles/clock.js';
import type { ResolveContext, ResolvedSecret, SecretDescription, SecretProvider } from '../provider.js';
import type { SecretRef } from '../ref/types.js';
import { crc32c } from './crc32c.js';
import { gcpEndpoint } from './endpoint.js';
import { gcpAccessToken, type GcpAccessToken } from './gcpAccessToken.js';
import { GcpHttpFailure, toSecretsError } from './GcpHttpFailure.js';
import { factsOf, type SecretFacts } from './metadata.js';
import { isProjectId, parseGcpRef, secretPath, versionPath, type SecretVersionName } from './refs.js';
import { retryPolicy } from '../retry.js';
import type { GcpRetryOptions } from './retry.js';
import { GcpTransport, type GcpRequest } from './transport.js';

/**
 * Options of {@link fromGcpSecretManager}.
 *
 * @example
 * ```ts
 * fromGcpSecretManager({
 *   projectId: 'prod-data',
 *   auth: gcpAccessToken({ impersonate: { targetPrincipal: 'secrets-reader@prod-data.iam.gserviceaccount.com' } }),
 *   rotation: { disablePreviousAfterMs: 3_600_000 },
 * });
 * ```
 */
export interface FromGcpSecretManagerInit {
  /**
   * The project of short refs (`gcp-sm://<secret>`).
   * @default GOOGLE_CLOUD_PROJECT, else GCLOUD_PROJECT, else the project of the credentials
   */
  readonly projectId?: string;
  /**
   * The access token the requests carry. The provider closes a token it made itself, never one you pass.
   * @default gcpAccessToken() (Application Default Credentials, cloud-platform scope), made on the first request
   */
  readonly auth?: GcpAccessToken;
  /**
   * The Secret Manager endpoint.
   * @default 'https://secretmanager.googleapis.com', or the regional `https://secretmanager.<location>.rep.googleapis.com` when `location` is set
   */
  readonly apiEndpoint?: string;
  /**
   * The region of regional secrets: short refs and full refs without `locations/` are read there.
   * @default undefined (global secrets)
   */
  readonly location?: string;
  /**
   * How long a secret's labels (its metadata) are reused before GetSecret is asked again. A
   * cold read of a secret whose labels are known makes exactly one request.
   * @default 300_000
   */
  readonly labelsTtlMs?: number;
  /**
   * The longest one HTTP attempt may take.
   * @default 10_000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Retries of RESOURCE_EXHAUSTED, UNAVAILABLE, other 5xx and network errors.
   * @default { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000, deadlineMs: 15_000 }
   */
  readonly retry?: GcpRetryOptions;
  /** What `rotate` does besides adding a version. */
  readonly rotation?: {
    /**
     * Disable the version that was latest before a rotation this long after it, so consumers of
     * the old value have an overlap to move over. The timer is background work: it does not keep
     * the process alive, and `close()` cancels it.
     * @default undefined (the previous version stays enabled)
     */
    readonly disablePreviousAfterMs?: number;
  };
  /**
   * Called when a background task (disabling a previous version) fails.
   * @default ignore
   */
  readonly onBackgroundError?: (err: unknown) => void;
  /**
   * The provider name shown in errors and on `Secret.provider`.
   * @default 'gcp'
   */
  readonly name?: string;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
  /**
   * Time and timers (label cache, disable-after-overlap); tests pass a fake one.
   * @default the system clock
   */
  readonly clock?: Clock;
  /**
   * The random source for retry jitter, in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
}

/** The Secret Manager service path prefix. */
const API = 'v1';

/**
 * A provider for Google Cloud Secret Manager over its REST API (no gRPC), serving
 * `gcp-sm://projects/<project>[/locations/<location>]/secrets/<secret>[/versions/<n>|latest][#field]`
 * and the short `gcp-sm://<secret>[/versions/<n>]`.
 *
 * - **Values**: `payload.data` is checked against `payload.dataCrc32c` (CRC32C) on every read; a
 *   mismatch or a missing checksum is `SECRET_FORMAT` and the value is dropped. UTF-8 text comes
 *   back as text (so `#field` works on JSON), anything else as bytes for `getBytes`.
 * - **Labels** become `Secret.metadata` (`environment` or `env`, `owner`, `purpose`,
 *   `sensitivity`, `rotation` …), so environment guards and policy apply; `expireTime` is the
 *   expiry; the resolved version number is `Secret.version`.
 * - **Errors**: NOT_FOUND and disabled or destroyed versions → `SECRET_NOT_FOUND`;
 *   PERMISSION_DENIED, and UNAUTHENTICATED after one token refresh → `ACCESS_DENIED`;
 *   RESOURCE_EXHAUSTED, 5xx and network errors → `PROVIDER_UNAVAILABLE` after retries with jitter.
 * - **Rotation**: `rotate(ref, value)` adds a version (with its CRC32C), and optionally disables
 *   the previous one after an overlap.
 *
 * google-auth-library (an optional peer dependency) is loaded on the first request.
 *
 * @example
 * ```ts
 * import { createSecrets } from 'connector-secrets';
 * import { fromGcpSecretManager } from 'connector-secrets/gcp';
 *
 * const secrets = createSecrets({ environment: 'prod', providers: [fromGcpSecretManager({ projectId: 'prod-data' })] });
 * const password = await secrets.get('gcp-sm://orders-db#password');
 * ```
 */
export function fromGcpSecretManager(init: FromGcpSecretManagerInit = {}): SecretProvider {
  const name = init.name ?? 'gcp';
  const clock = init.clock ?? systemClock;
  const random = init.random ?? Math.random;
  const retry = retryPolicy(init.retry);
  const requestTimeoutMs = init.requestTimeoutMs ?? 10_000;
  const labelsTtlMs = init.labelsTtlMs ?? 300_000;
  if (!(requestTimeoutMs > 0)) throw new ConfigError('requestTimeoutMs must be a positive number of milliseconds', { provider: name });
  if (!(labelsTtlMs >= 0)) throw new ConfigError('labelsTtlMs must be a non-negative number of milliseconds', { provider: name });
  const overlapMs = init.rotation?.disablePreviousAfterMs;
  if (overlapMs !== undefined && !(overlapMs >= 0)) throw new ConfigError('rotation.disablePreviousAfterMs must be a non-negative number of milliseconds', { provider: name });
  if (init.projectId !== undefined && !isProjectId(init.projectId)) throw new ConfigError('projectId must be a project id or number', { provider: name });
  const transport = new GcpTransport({
    endpoint: gcpEndpoint(init.apiEndpoint, init.location),
    retry,
    requestTimeoutMs,
    random,
  });
  const ownToken = init.auth === undefined;
  let token: GcpAccessToken | undefined = init.auth;
  const labels = new Map<string, { facts: SecretFacts; at: number }>();
  const pending = new Set<TimerId>();
  let closed = false;

  const auth = (): GcpAccessToken => {
    if (closed) throw new ConfigError('the Google Cloud provider was closed', { provider: name });
    token ??= gcpAccessToken({ clock, random });
    return token;
  };

  /** One call with the token; a 401 forces one token refresh and one repeat. */
  const call = (req: Omit<GcpRequest, 'token'>): Promise<unknown> =>
    auth().withCredential((t) => transport.send({ ...req, token: t.reveal() }), {
      isAuthError: (err) => err instanceof GcpHttpFailure && err.unauthenticated,
    });

  const locate = async (ref: SecretRef, ctx: ResolveContext): Promise<SecretVersionName> => {
    const parsed = parseGcpRef(ref, { location: init.location }, name);
    if (parsed.project !== undefined) return { ...parsed, project: parsed.project };
    const project = init.projectId ?? ctx.env['GOOGLE_CLOUD_PROJECT'] ?? ctx.env['GCLOUD_PROJECT'] ?? (await auth().projectId());
    if (project === undefined || project === '') {
      throw new ConfigError('no project for a short gcp-sm ref: pass fromGcpSecretManager({ projectId }) or set GOOGLE_CLOUD_PROJECT', { ref: String(ref), provider: name });
    }
    if (!isProjectId(project)) throw new ConfigError('the detected project is not a project id or number', { ref: String(ref), provider: name });
    return { ...parsed, project };
  };

  /** The secret's labels, from the cache while fresh. A principal without `secrets.get` gets none. */
  const factsFor = async (at: SecretVersionName, signal: AbortSignal): Promise<SecretFacts> => {
    const key = secretPath(at);
    const hit = labels.get(key);
    if (hit !== undefined && clock.now() - hit.at < labelsTtlMs) return hit.facts;
    let facts: SecretFacts;
    try {
      facts = factsOf(await call({ method: 'GET', path: `${API}/${key}`, signal }));
    } catch (err) {
      if (!(err instanceof GcpHttpFailure && err.api.httpStatus === 403)) throw err;
      facts = {};
    }
    if (labels.size >= 10_000) labels.delete(labels.keys().next().value!);
    labels.set(key, { facts, at: clock.now() });
    return facts;
  };

  const readPayload = (body: unknown, ids: { ref: string; provider: string }): { bytes: Uint8Array; version: string | undefined } => {
    const b = body as { name?: unknown; payload?: { data?: unknown; dataCrc32c?: unknown } };
    const data = b.payload?.data;
    const sum = b.payload?.dataCrc32c;
    if (typeof data !== 'string' && data !== undefined) throw new SecretFormatError('payload.data is not base64 text', ids);
    const bytes = Buffer.from(data ?? '', 'base64');
    // int64 in proto3 JSON is a string; accept a number too, as some proxies re-encode it.
    const expected = typeof sum === 'string' && /^\d{1,20}$/.test(sum) ? Number(sum) : typeof sum === 'number' ? sum : undefined;
    if (expected === undefined) {
      throw new SecretFormatError('the secret came without a dataCrc32c checksum; refused', { ...ids, issues: [{ path: 'payload.dataCrc32c', code: 'missing' }] });
    }
    if (crc32c(bytes) !== expected) {
      bytes.fill(0);
      throw new SecretFormatError('the secret failed its CRC32C check (payload.dataCrc32c); refused', { ...ids, issues: [{ path: 'payload.dataCrc32c', code: 'checksum_mismatch' }] });
    }
    const version = typeof b.name === 'string' ? /\/versions\/([^/]+)$/.exec(b.name)?.[1] : undefined;
    return { bytes, version };
  };

  const disableLater = (previous: string): void => {
    if (overlapMs === undefined) return;
    const id = clock.setTimeout(() => {
      pending.delete(id);
      if (closed) return;
      call({ method: 'POST', path: `${API}/${previous}:disable`, body: {} }).catch((err: unknown) => init.onBackgroundError?.(toSecretsError(err, { provider: name })));
      // Background: no caller awaits the disable, and it must not keep a finished process alive.
    }, overlapMs, { background: true });
    pending.add(id);
  };

  return {
    name,
    schemes: ['gcp-sm'],
    ...(init.environment === undefined ? {} : { environment: init.environment }),

    async resolve(ref, ctx): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = await locate(ref, ctx);
        const facts = factsFor(at, ctx.signal);
        // The labels request runs beside the read; its failure must not go unhandled.
        facts.catch(() => undefined);
        const body = await call({ method: 'GET', path: `${API}/${versionPath(at)}:access`, signal: ctx.signal });
        const { bytes, version } = readPayload(body, ids);
        const { metadata, expiresAt } = await facts;
        return {
          value: textOrBytes(bytes),
          ...(version === undefined ? {} : { version }),
          ...(metadata === undefined ? {} : { metadata }),
          ...(expiresAt === undefined ? {} : { expiresAt }),
        };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    /**
     * GetSecret (labels, createTime, expiry, rotation schedule; the label cache is refreshed
     * with it) and GetSecretVersion of the ref's version (its number and createTime) — neither
     * returns the payload. Version 1 is the creation; a later version's createTime is the last rotation.
     */
    async describe(ref, ctx): Promise<SecretDescription> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = await locate(ref, ctx);
        const key = secretPath(at);
        const [secret, version] = await Promise.all([
          call({ method: 'GET', path: `${API}/${key}`, signal: ctx.signal }) as Promise<{ createTime?: unknown; rotation?: { nextRotationTime?: unknown } }>,
          (call({ method: 'GET', path: `${API}/${versionPath(at)}`, signal: ctx.signal }) as Promise<{ name?: unknown; createTime?: unknown }>).catch((err: unknown) => {
            // A secret without versions (or without this one), or whose versions the principal
            // may not see, is still described from its resource.
            if (err instanceof GcpHttpFailure && (err.api.httpStatus === 404 || err.api.httpStatus === 403)) return undefined;
            throw err;
          }),
        ]);
        const facts = factsOf(secret);
        if (labels.size >= 10_000) labels.delete(labels.keys().next().value!);
        labels.set(key, { facts, at: clock.now() });
        const number = typeof version?.name === 'string' ? /\/versions\/([^/]+)$/.exec(version.name)?.[1] : undefined;
        const created = instant(secret.createTime);
        const written = instant(version?.createTime);
        const next = instant(secret.rotation?.nextRotationTime);
        return {
          ...(number === undefined ? {} : { version: number }),
          ...(created === undefined ? {} : { createdAt: created }),
          ...(written === undefined ? {} : { updatedAt: written }),
          ...(written !== undefined && number !== undefined && Number(number) > 1 ? { lastRotatedAt: written } : {}),
          ...(next === undefined ? {} : { nextRotationAt: next }),
          ...(facts.expiresAt === undefined ? {} : { expiresAt: facts.expiresAt }),
          ...(facts.metadata === undefined ? {} : { metadata: facts.metadata }),
        };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async rotate(ref: SecretRef, value: string, ctx: ResolveContext): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const at = await locate(ref, ctx);
        if (at.version !== 'latest') throw new InvalidSecretRefError('rotate adds a new version: name the secret without a version', ids);
        const secret = secretPath(at);
        let previous: { name: string; bytes?: Uint8Array } | undefined;
        try {
          const latest = (await call({ method: 'GET', path: `${API}/${secret}/versions/latest${ref.fieldPath ? ':access' : ''}`, signal: ctx.signal })) as { name?: unknown };
          if (typeof latest.name === 'string') previous = { name: latest.name, ...(ref.fieldPath ? { bytes: readPayload(latest, ids).bytes } : {}) };
        } catch (err) {
          // A secret without versions has nothing to keep or disable.
          if (!(err instanceof GcpHttpFailure && err.api.httpStatus === 404)) throw err;
        }
        const text = ref.fieldPath === undefined ? value : withField(previous?.bytes, ref.fieldPath, value, ids);
        const bytes = Buffer.from(text, 'utf8');
        const data = bytes.toString('base64');
        const added = (await call({
          method: 'POST',
          path: `${API}/${secret}:addVersion`,
          body: { payload: { data, dataCrc32c: String(crc32c(bytes)) } },
          signal: ctx.signal,
          scrub: [value, text, data],
        })) as { name?: unknown };
        const version = typeof added.name === 'string' ? /\/versions\/([^/]+)$/.exec(added.name)?.[1] : undefined;
        if (previous !== undefined && previous.name !== added.name) disableLater(previous.name.replace(/^projects\/[^/]+/, `projects/${at.project}`));
        const { metadata } = await factsFor(at, ctx.signal);
        return { value: text, ...(version === undefined ? {} : { version }), ...(metadata === undefined ? {} : { metadata }) };
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const id of pending) clock.clearTimeout(id);
      pending.clear();
      labels.clear();
      if (ownToken) await token?.close();
    },
  };
}

/** UTF-8 text as a string (so `#field` can read JSON); anything else stays bytes, for getBytes. */
function textOrBytes(bytes: Uint8Array): string | Uint8Array {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}

/** The current JSON secret with one top-level-or-nested field replaced. */
function withField(current: Uint8Array | undefined, path: readonly string[], value: string, ids: { ref: string; provider: string }): string {
  let doc: unknown = {};
  if (current !== undefined) {
    try {
      doc = JSON.parse(Buffer.from(current).toString('utf8'));
    } catch {
      throw new SecretFormatError('the current version is not JSON, so a field of it cannot be replaced', ids);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new SecretFormatError('the current version is not a JSON object', ids);
  let node = doc as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new SecretFormatError(`field "${path.join('.')}" has no object to go into`, ids);
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return JSON.stringify(doc);
}

/** An RFC 3339 time from the API, or undefined when absent or unreadable. */
function instant(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
