import {
  AccessDeniedError,
  ProviderUnavailableError,
  SecretNotFoundError,
  type ConnectorSecretsError,
} from '../errors.js';
import { checkTimerMs, sleep } from '../handles/clock.js';
import type { ResolveContext, ResolvedSecret, SecretDescription, SecretMetadata, SecretProvider } from '../provider.js';
import { parseRef } from '../ref/parseRef.js';
import { formatRef } from '../ref/formatRef.js';
import type { SecretRef } from '../ref/types.js';

/** How a mocked call fails. */
export type MockFailure = 'unavailable' | 'denied' | 'not-found' | 'throttled';

/**
 * Options of {@link MockProvider.set}.
 */
export interface MockSetOptions {
  /** The version reported. @default '1', then one more on each set or rotate */
  readonly version?: string;
  /** The credential's lifetime from each resolve; the value then carries `expiresAt`. */
  readonly ttlMs?: number;
  /** Non-secret metadata reported with the value. */
  readonly metadata?: SecretMetadata;
  /** Dates `describe` reports (created, updated, rotated, expiry), as a backend would keep them. */
  readonly facts?: Pick<SecretDescription, 'createdAt' | 'updatedAt' | 'lastRotatedAt' | 'nextRotationAt' | 'expiresAt'>;
}

/**
 * A mocked dynamic credential: each resolve issues a new value under a new lease.
 */
export interface MockLeaseOptions {
  /** Lifetime of each lease from issue or renewal. */
  readonly ttlMs: number;
  /** Longest a lease may live in total, across renewals. */
  readonly maxTtlMs?: number;
  /** Whether `renew` extends leases. @default true */
  readonly renewable?: boolean;
  /** Makes the value of credential number `n` (1, 2, …). */
  readonly issue: (n: number) => string | object;
  /** Non-secret metadata reported with each value. */
  readonly metadata?: SecretMetadata;
}

/** A lease the mock issued, for assertions. */
export interface MockLeaseRecord {
  /** The lease id. */
  readonly id: string;
  /** The canonical ref it was issued for. */
  readonly ref: string;
  /** Epoch ms of issue. */
  readonly issuedAt: number;
  /** Epoch ms of expiry, moved by renewals. */
  expiresAt: number;
  /** Whether `revoke` was called for it. */
  revoked: boolean;
  /** How many times it was renewed. */
  renewals: number;
}

/**
 * Options of {@link fromMock}.
 *
 * @example
 * ```ts
 * const mock = fromMock({ schemes: ['vault'] });
 * ```
 */
export interface FromMockInit {
  /**
   * The provider name.
   * @default 'mock'
   */
  readonly name?: string;
  /**
   * Schemes it answers; `'*'` answers every scheme.
   * @default ['*']
   */
  readonly schemes?: readonly string[];
  /**
   * Whether it answers logical `secret://` refs.
   * @default true
   */
  readonly logical?: boolean;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
  /** Extra ref params it accepts. @default [] */
  readonly params?: readonly string[];
}

/**
 * An in-memory provider for connector authors' tests, made by {@link fromMock}.
 */
export interface MockProvider extends SecretProvider {
  /**
   * Stores a value (objects are stored as JSON) for a ref; `#field` is ignored. Clients using
   * this mock are told, as by a real rotation event: they drop their cached copy, and a handle
   * on the ref reads the new value at once (emitting `rotated`).
   */
  set(ref: string, value: string | Uint8Array | object, options?: MockSetOptions): void;
  /**
   * Replaces a value with a new version, keeping its options; takes the same values as `set`.
   * Clients using this mock are told at once, like `set`.
   * @example
   * ```ts
   * await mock.rotate('vault://kv/dev/orders-db', { username: 'etl', password: randomUUID() });
   * ```
   */
  rotate(ref: string | SecretRef, value: string | Uint8Array | object, ctx?: ResolveContext): Promise<ResolvedSecret>;
  /** Makes `ref` a leased credential that issues a new value on each resolve. */
  lease(ref: string, options: MockLeaseOptions): void;
  /** Every lease issued so far, in order. */
  readonly leases: readonly MockLeaseRecord[];
  /** How many times `renew` was called. */
  readonly renewCalls: number;
  /** How many times `revoke` was called. */
  readonly revokeCalls: number;
  /** Removes a value. */
  delete(ref: string): void;
  /** Makes calls for `ref` (or `'*'`, every ref) fail; `times` calls, or until `clearFailures`. */
  fail(ref: string, kind: MockFailure, options?: { times?: number }): void;
  /** Removes every failure rule. */
  clearFailures(): void;
  /** Delays every answer by `ms`, on the client’s clock (a test clock or fake timers control it; the timer keeps the process alive). */
  delay(ms: number): void;
  /** How many times `resolve` was called. */
  readonly calls: number;
  /** How many times `resolve` was called for `ref`. */
  callsFor(ref: string): number;
  /** Resets the call counters. */
  resetCalls(): void;
}

interface Stored {
  value: string | Uint8Array;
  version: number | string;
  options: MockSetOptions;
}

interface FailureRule {
  key: string;
  kind: MockFailure;
  remaining: number;
}

/**
 * An in-memory provider for tests: set values, rotate them, inject failures and delays, and
 * count calls. It answers every scheme by default.
 *
 * @example
 * ```ts
 * import { fromMock } from 'connector-secrets/testing';
 * const mock = fromMock();
 * mock.set('vault://kv/dev/orders-db', { username: 'etl', password: randomUUID() });
 * mock.fail('*', 'unavailable', { times: 1 });
 * const secrets = createSecrets({ environment: 'dev', providers: [mock] });
 * ```
 */
export function fromMock(init: FromMockInit = {}): MockProvider {
  const name = init.name ?? 'mock';
  const store = new Map<string, Stored>();
  const counts = new Map<string, number>();
  let failures: FailureRule[] = [];
  let delayMs = 0;
  let calls = 0;
  let renewCalls = 0;
  let revokeCalls = 0;
  const leased = new Map<string, { options: MockLeaseOptions; issued: number }>();
  const leases: MockLeaseRecord[] = [];
  const watchers = new Set<(ref: string) => void>();
  const changed = (key: string) => {
    for (const w of [...watchers]) w(key);
  };
  const stored = (value: string | Uint8Array | object) => (typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value));

  const keyOf = (ref: string | SecretRef) => {
    const { scheme, path, segments, params } = typeof ref === 'string' ? parseRef(ref) : ref;
    return formatRef({ scheme, path, segments, params });
  };

  const failure = (key: string, id: { ref: string; provider: string }): ConnectorSecretsError | undefined => {
    const rule = failures.find((r) => r.remaining > 0 && (r.key === '*' || r.key === key));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    switch (rule.kind) {
      case 'unavailable':
        return new ProviderUnavailableError('mock: unavailable', id);
      case 'throttled':
        return new ProviderUnavailableError('mock: throttled', { ...id, throttled: true });
      case 'denied':
        return new AccessDeniedError('mock: access denied', id);
      case 'not-found':
        return new SecretNotFoundError('mock: not found', id);
    }
  };

  const issue = (key: string, dynamic: { options: MockLeaseOptions; issued: number }, now: number): ResolvedSecret => {
    const n = (dynamic.issued += 1);
    const { options } = dynamic;
    const value = options.issue(n);
    const record: MockLeaseRecord = { id: `${key}/lease-${n}`, ref: key, issuedAt: now, expiresAt: now + options.ttlMs, revoked: false, renewals: 0 };
    leases.push(record);
    return {
      value: typeof value === 'string' ? value : JSON.stringify(value),
      version: String(n),
      expiresAt: new Date(record.expiresAt),
      lease: {
        id: record.id,
        ttlMs: options.ttlMs,
        renewable: options.renewable ?? true,
        ...(options.maxTtlMs === undefined ? {} : { maxTtlMs: options.maxTtlMs }),
      },
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    };
  };

  const answer = (stored: Stored, now: number): ResolvedSecret => ({
    value: stored.value,
    version: String(stored.version),
    ...(stored.options.ttlMs === undefined ? {} : { expiresAt: new Date(now + stored.options.ttlMs) }),
    ...(stored.options.metadata === undefined ? {} : { metadata: stored.options.metadata }),
  });

  return {
    name,
    schemes: init.schemes ?? ['*'],
    logical: init.logical ?? true,
    params: init.params ?? [],
    ...(init.environment === undefined ? {} : { environment: init.environment }),

    // Every ref is its own key (scheme included): no two spellings name one value.
    aliases: () => [],

    async resolve(ref, ctx) {
      const key = keyOf(ref);
      calls += 1;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (delayMs > 0) await sleep(delayMs, { signal: ctx.signal, ...(ctx.clock === undefined ? {} : { clock: ctx.clock }) });
      const id = { ref: key, provider: name };
      const failed = failure(key, id);
      if (failed !== undefined) throw failed;
      const dynamic = leased.get(key);
      if (dynamic !== undefined) return issue(key, dynamic, ctx.now());
      const stored = store.get(key);
      if (stored === undefined) throw new SecretNotFoundError('mock: no value set', id);
      return answer(stored, ctx.now());
    },

    // Never counted in `calls`: those count value reads, and describe reads none.
    async describe(ref) {
      const key = keyOf(ref);
      const id = { ref: key, provider: name };
      const failed = failure(key, id);
      if (failed !== undefined) throw failed;
      const dynamic = leased.get(key);
      if (dynamic !== undefined) return { version: String(dynamic.issued), ...(dynamic.options.metadata === undefined ? {} : { metadata: dynamic.options.metadata }) };
      const stored = store.get(key);
      if (stored === undefined) throw new SecretNotFoundError('mock: no value set', id);
      return {
        version: String(stored.version),
        ...stored.options.facts,
        ...(stored.options.metadata === undefined ? {} : { metadata: stored.options.metadata }),
      };
    },

    async renew(lease, ctx) {
      renewCalls += 1;
      const record = leases.find((l) => l.id === lease.id);
      const id = { ref: record?.ref ?? lease.id, provider: name };
      if (record === undefined || record.revoked || record.expiresAt <= ctx.now()) {
        throw new AccessDeniedError('mock: lease not found or expired', id);
      }
      const failed = failure(record.ref, id);
      if (failed !== undefined) throw failed;
      const { options } = leased.get(record.ref)!;
      if (options.renewable === false) throw new AccessDeniedError('mock: lease is not renewable', id);
      const maxEnd = options.maxTtlMs === undefined ? Infinity : record.issuedAt + options.maxTtlMs;
      record.expiresAt = Math.min(ctx.now() + options.ttlMs, maxEnd);
      record.renewals += 1;
      return { ...lease, ttlMs: record.expiresAt - ctx.now() };
    },

    watch(onChange) {
      watchers.add(onChange);
      return () => void watchers.delete(onChange);
    },

    async revoke(lease) {
      revokeCalls += 1;
      const record = leases.find((l) => l.id === lease.id);
      if (record !== undefined) record.revoked = true;
    },

    set(ref, value, options = {}) {
      const key = keyOf(ref);
      const previous = store.get(key);
      const version = options.version ?? (previous === undefined ? 1 : Number(previous.version) + 1);
      store.set(key, { value: stored(value), version, options });
      changed(key);
    },

    async rotate(ref, value, ctx) {
      const key = keyOf(ref);
      const previous = store.get(key);
      if (previous === undefined) throw new SecretNotFoundError('mock: no value to rotate', { ref: key, provider: name });
      const next = { value: stored(value), version: Number(previous.version) + 1, options: previous.options };
      store.set(key, next);
      changed(key);
      return answer(next, ctx?.now() ?? Date.now());
    },

    lease(ref, options) {
      leased.set(keyOf(ref), { options, issued: 0 });
    },

    get leases() {
      return leases;
    },

    get renewCalls() {
      return renewCalls;
    },

    get revokeCalls() {
      return revokeCalls;
    },

    delete(ref) {
      store.delete(keyOf(ref));
      leased.delete(keyOf(ref));
    },

    fail(ref, kind, options = {}) {
      failures.push({ key: ref === '*' ? '*' : keyOf(ref), kind, remaining: options.times ?? Infinity });
    },

    clearFailures() {
      failures = [];
    },

    delay(ms) {
      delayMs = checkTimerMs('delay(ms)', ms);
    },

    get calls() {
      return calls;
    },

    callsFor(ref) {
      return counts.get(keyOf(ref)) ?? 0;
    },

    resetCalls() {
      calls = 0;
      counts.clear();
    },
  };
}
