import { ConfigError, InvalidSecretRefError } from '../errors.js';
import { checkTimerMs, systemClock, type Clock } from '../handles/clock.js';
import type { Lease, ResolveContext, ResolvedSecret, SecretDescription, SecretProvider } from '../provider.js';
import { formatRef } from '../ref/formatRef.js';
import { LOGICAL_SCHEME, type SecretRef } from '../ref/types.js';
import { login, type VaultAuth } from './auth.js';
import { retryPolicy } from '../retry.js';
import type { VaultRetryOptions } from './backoff.js';
import { CredentialSource, type VaultRefResolver } from './credentials.js';
import { describeKv2, readGeneric, readKv1, readKv2, rotateKv2, type ReadContext } from './kv.js';
import { renewLease, revokeLease, type LeaseBook } from './leases.js';
import { MountTable, type Located } from './mounts.js';
import { isPkiIssue, issueCertificate, PKI_PARAMS } from './pki.js';
import { VaultSession } from './session.js';
import { resolveTls, type VaultTlsOptions } from './tls.js';
import { createTokenHandle, type VaultTokenHandle } from './tokenHandle.js';
import { raceAbort, VaultTransport } from './transport.js';
import { toSecretsError } from './VaultHttpFailure.js';

/**
 * Options of {@link fromVault}.
 *
 * @example
 * ```ts
 * fromVault({
 *   address: 'https://vault.internal:8200',
 *   namespace: 'data-platform',
 *   auth: { method: 'approle', roleId: 'file:///run/secrets/vault-role-id', secretId: 'file:///run/secrets/vault-secret-id' },
 *   tls: { caFile: '/etc/vault/ca.pem' },
 * });
 * ```
 */
export interface FromVaultInit {
  /**
   * The Vault server, e.g. `https://vault.internal:8200`.
   * @default the VAULT_ADDR variable (an error when neither is set)
   */
  readonly address?: string;
  /**
   * How the provider gets its token.
   * @default { method: 'token', token: 'env://VAULT_TOKEN' }
   */
  readonly auth?: VaultAuth;
  /**
   * The Vault Enterprise namespace, sent as `X-Vault-Namespace` on every call, logins included.
   * @default the VAULT_NAMESPACE variable, else none
   */
  readonly namespace?: string;
  /**
   * TLS settings: CA bundle, client certificate and key.
   * @default Node's CA bundle (plus VAULT_CACERT when set), no client certificate
   */
  readonly tls?: VaultTlsOptions;
  /**
   * KV versions by mount path, skipping detection through `sys/internal/ui/mounts`.
   * @default {} (detect each mount once, then cache)
   * @example
   * ```ts
   * kvVersions: { kv: 2, 'legacy-secrets': 1 }
   * ```
   */
  readonly kvVersions?: Readonly<Record<string, 1 | 2>>;
  /**
   * A path that logical `secret://a/b` refs are read below (`vault://<logicalMount>/a/b`).
   * When unset, the provider does not resolve logical refs.
   * @default undefined
   * @example
   * ```ts
   * logicalMount: 'kv/etl'
   * ```
   */
  readonly logicalMount?: string;
  /**
   * The longest one HTTP attempt may take, from connecting to the last byte of the body (a
   * server that trickles its answer is cut off too). At most 2^31 - 1.
   * @default 10_000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Retries of 412, 429, 5xx (sealed, standby), refused connections and timeouts, after a
   * jittered backoff or the `Retry-After` Vault sends, whichever is longer, inside `deadlineMs`.
   * @default { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000, deadlineMs: 15_000 }
   */
  readonly retry?: VaultRetryOptions;
  /** The provider's own token. */
  readonly token?: {
    /**
     * Where in its TTL the token is renewed (or replaced), drawn uniformly from this range.
     * @default [0.6, 0.7] (a jittered two thirds)
     */
    readonly refreshFraction?: readonly [number, number];
    /**
     * Whether `close()` revokes the token (revoke-self), which also revokes every lease Vault
     * issued to it.
     * @default true for AppRole, Kubernetes and JWT logins; false for a given token
     */
    readonly revokeOnClose?: boolean;
  };
  /**
   * Resolves login credentials given as refs other than `file://` and `env://`.
   * @default none: such refs are a ConfigError
   */
  readonly resolveRef?: VaultRefResolver;
  /**
   * Called when a background token renewal or login fails (it is retried with backoff).
   * @default ignore
   */
  readonly onTokenError?: (err: unknown) => void;
  /**
   * The provider name shown in errors and on `Secret.provider`.
   * @default 'vault'
   */
  readonly name?: string;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
  /**
   * Time and timers (token refresh, retry waits, attempt timeouts, the deadline); tests pass a
   * fake one. Token refreshes are background timers that never keep the process alive; every
   * wait a call depends on keeps it alive until the call settles.
   * @default the system clock
   */
  readonly clock?: Clock;
  /**
   * The random source for jitter, in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
}

interface Runtime {
  readonly session: VaultSession;
  readonly mounts: MountTable;
  readonly token: VaultTokenHandle;
}

const MAX_BOOK = 10_000;

/**
 * A provider for HashiCorp Vault, serving `vault://<mount>/<path>[?version=N][#field]`.
 *
 * - **KV**: the version of each mount is detected once (`sys/internal/ui/mounts`), so refs use
 *   the logical path (`vault://kv/etl/orders-db`, never `kv/data/…`). KV v2 `custom_metadata`
 *   becomes `Secret.metadata` (`environment`, `owner`, `purpose`; `expires_at` → `expiresAt`);
 *   deleted and destroyed versions are `SECRET_NOT_FOUND` with the reason; `?version=N` pins.
 * - **Dynamic secrets**: a read that returns a `lease_id` (`database/creds/<role>`, …) carries
 *   `lease` and `expiresAt`; `renew` and `revoke` use `sys/leases/renew` and `sys/leases/revoke`.
 * - **PKI**: `vault://pki/issue/<role>?common_name=…` issues a certificate, key and chain (JSON).
 * - **Rotation**: `rotate(ref, value)` writes a new KV v2 version with check-and-set.
 * - **Auth**: token, AppRole, Kubernetes, JWT; the token is renewed at a jittered two thirds of
 *   its TTL, replaced by a new login when it cannot be, and a request refused because the token
 *   expired logs in again once.
 * - **Errors**: 404 → `SECRET_NOT_FOUND`, 403 → `ACCESS_DENIED`, 429 / 5xx / sealed / standby /
 *   refused connections / timeouts → `PROVIDER_UNAVAILABLE` after retries with backoff and full
 *   jitter inside a deadline. Vault's `errors` (scrubbed of submitted values) are on `cause`.
 *
 * node-vault (an optional peer dependency) is loaded on the first request.
 *
 * @example
 * ```ts
 * import { createSecrets } from 'connector-secrets';
 * import { fromVault } from 'connector-secrets/vault';
 *
 * const secrets = createSecrets({
 *   environment: 'prod',
 *   providers: [fromVault({ auth: { method: 'kubernetes', role: 'etl-orders' } })],
 * });
 * const password = await secrets.get('vault://kv/etl/orders-db#password');
 * ```
 */
export function fromVault(init: FromVaultInit = {}): SecretProvider {
  const name = init.name ?? 'vault';
  const random = init.random ?? Math.random;
  const retry = retryPolicy(init.retry);
  const requestTimeoutMs = checkTimerMs('requestTimeoutMs', init.requestTimeoutMs ?? 10_000, 1, { provider: name });
  const refreshFraction = init.token?.refreshFraction ?? [0.6, 0.7];
  const auth: VaultAuth = init.auth ?? { method: 'token' };
  const logicalSegments = init.logicalMount?.split('/').filter(Boolean);
  const book: LeaseBook = new Map();
  let runtime: Promise<Runtime> | undefined;
  let closed = false;

  const start = async (ctx: ResolveContext): Promise<Runtime> => {
    const { env } = ctx;
    // The client's clock unless this provider was given its own: a test's fake clock then
    // controls Vault's retry pauses, request timeouts and token refreshes too.
    const clock = init.clock ?? ctx.clock ?? systemClock;
    const address = init.address ?? env['VAULT_ADDR'];
    if (address === undefined || address === '') throw new ConfigError('no Vault address: pass fromVault({ address }) or set VAULT_ADDR', { provider: name });
    const namespace = init.namespace ?? env['VAULT_NAMESPACE'];
    const credentials = new CredentialSource(env, init.resolveRef, name);
    const tls = await resolveTls(init.tls, env, credentials);
    const transport = await VaultTransport.create({ address, namespace: namespace || undefined, tls, requestTimeoutMs, retry, clock, random });
    const token = createTokenHandle({
      provider: name,
      transport,
      login: (signal) => login(auth, transport, credentials, name, signal),
      clock,
      random,
      refreshFraction,
      revokeOnClose: init.token?.revokeOnClose ?? auth.method !== 'token',
      onError: init.onTokenError,
    });
    const session = new VaultSession(transport, token);
    return { session, token, mounts: new MountTable(session, init.kvVersions ?? {}, namespace) };
  };

  const ready = (ctx: ResolveContext): Promise<Runtime> => {
    if (closed) throw new ConfigError('the Vault provider was closed', { provider: name });
    runtime ??= start(ctx).catch((err: unknown) => {
      runtime = undefined;
      throw err;
    });
    return raceAbort(runtime, ctx.signal);
  };

  const locate = async (rt: Runtime, ref: SecretRef, signal: AbortSignal): Promise<Located> => {
    const segments = ref.logical ? [...(logicalSegments ?? []), ...ref.segments] : ref.segments;
    if (segments.length < 2) throw new InvalidSecretRefError('vault refs name a mount and a path: vault://<mount>/<path>', { ref: String(ref), provider: name });
    return rt.mounts.locate(segments, signal);
  };

  const readContext = (ref: SecretRef, ctx: ResolveContext): ReadContext => ({ ref, provider: name, now: ctx.now(), signal: ctx.signal });

  return {
    name,
    schemes: ['vault'],
    logical: logicalSegments !== undefined && logicalSegments.length > 0,
    params: [...PKI_PARAMS],
    ...(init.environment === undefined ? {} : { environment: init.environment }),

    // `secret://p` and `vault://<logicalMount>/p` read one secret: a deny glob on either spelling
    // covers both (the default alias, `vault://p`, would miss the mount).
    aliases(ref) {
      const mount = logicalSegments ?? [];
      if (mount.length === 0) return [];
      const spell = (scheme: string, segments: readonly string[]) => formatRef({ scheme, path: segments.join('/'), segments, params: {} });
      if (ref.logical) return [spell('vault', [...mount, ...ref.segments])];
      const under = ref.segments.length > mount.length && mount.every((s, i) => ref.segments[i] === s);
      return under ? [spell(LOGICAL_SCHEME, ref.segments.slice(mount.length))] : [];
    },

    async resolve(ref, ctx): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const rt = await ready(ctx);
        const at = await locate(rt, ref, ctx.signal);
        const rc = readContext(ref, ctx);
        let resolved: ResolvedSecret;
        if (isPkiIssue(at) && (at.mount.type === 'pki' || ref.params['common_name'] !== undefined)) {
          resolved = await issueCertificate(rt.session, at, rc);
        } else {
          const stray = PKI_PARAMS.find((p) => ref.params[p] !== undefined);
          if (stray !== undefined) throw new InvalidSecretRefError(`param "${stray}" applies to PKI issue refs (vault://<pki mount>/issue/<role>) only`, ids);
          resolved =
            at.mount.kvVersion === 2 ? await readKv2(rt.session, at, rc) : at.mount.kvVersion === 1 ? await readKv1(rt.session, at, rc) : await readGeneric(rt.session, at, rc);
        }
        if (resolved.lease !== undefined) {
          if (book.size >= MAX_BOOK) book.delete(book.keys().next().value!);
          book.set(resolved.lease.id, { issuedAt: rc.now, ttlMs: resolved.lease.ttlMs });
        }
        return resolved;
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async describe(ref: SecretRef, ctx: ResolveContext): Promise<SecretDescription> {
      try {
        const rt = await ready(ctx);
        const at = await locate(rt, ref, ctx.signal);
        return await describeKv2(rt.session, at, readContext(ref, ctx));
      } catch (err) {
        throw toSecretsError(err, { ref: String(ref), provider: name });
      }
    },

    async renew(lease: Lease, ctx: ResolveContext): Promise<Lease> {
      try {
        const rt = await ready(ctx);
        return await renewLease(rt.session, lease, book, name, () => ctx.now(), ctx.signal);
      } catch (err) {
        throw toSecretsError(err, { provider: name });
      }
    },

    async revoke(lease: Lease, ctx: ResolveContext): Promise<void> {
      try {
        const rt = await ready(ctx);
        await revokeLease(rt.session, lease, book, name, ctx.signal);
      } catch (err) {
        throw toSecretsError(err, { provider: name });
      }
    },

    async rotate(ref: SecretRef, value: string, ctx: ResolveContext): Promise<ResolvedSecret> {
      const ids = { ref: String(ref), provider: name };
      try {
        const rt = await ready(ctx);
        const at = await locate(rt, ref, ctx.signal);
        return await rotateKv2(rt.session, at, value, readContext(ref, ctx));
      } catch (err) {
        throw toSecretsError(err, ids);
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const rt = await runtime?.catch(() => undefined);
      book.clear();
      await rt?.token.close();
      rt?.session.transport.close();
    },
  };
}
