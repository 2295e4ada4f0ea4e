import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { SecretCache, cacheEntry, type CacheEntry, type CacheOptions } from './cache.js';
import { candidatesFor, describeChain, resolveChain } from './chain.js';
import {
  AuditWriteError,
  ConfigError,
  ConnectorSecretsError,
  QuarantinedError,
  RotationFailedError,
  SecretFormatError,
  SecretNotFoundError,
  isConnectorSecretsError,
} from './errors.js';
import { Emitter } from './events.js';
import { MAX_TIMER_MS, systemClock, type Clock } from './handles/clock.js';
import { createCredentialHandle, type CredentialHandle, type CredentialSource, type HandleOptions } from './handles/CredentialHandle.js';
import { selectField } from './field.js';
import { checkSchema, isManifest, isSpec, refFor, type LoadedSecrets, type SecretManifest, type SecretSpec, type SecretSpecs, type SpecValue } from './manifest.js';
import type { Lease, ResolveContext, ResolvedSecret, SecretDescription, SecretMetadata, SecretProvider } from './provider.js';
import { parseRef } from './ref/parseRef.js';
import { formatRef } from './ref/formatRef.js';
import type { SecretRef } from './ref/types.js';
import { Secret, type SecretInfo } from './secret.js';
import { createLogger, loggerOptionsSchema, type Logger, type LoggerOptions } from './redact/logger.js';
import { redactorOptionsSchema, type RedactorOptions } from './redact/options.js';
import { createRedactor, type Redactor } from './redact/redactor.js';
import type { Sensitivity } from './provider.js';
import { Auditor, type AuditRecordInput } from './audit/auditor.js';
import type { AuditSink } from './audit/event.js';
import type { ApprovalHook } from './guard/approval.js';
import type { CrossEnvironmentRule } from './guard/crossEnvironment.js';
import { Guard, type GuardPass, type GuardPlan, type PolicySource } from './guard/guard.js';
import { AnomalyDetector, type AnomalyEvent, type AnomalyOptions } from './metrics/anomaly.js';
import { MetricsRecorder, type SecretsMetrics } from './metrics/metrics.js';
import { createOtelBridge, loadOpenTelemetry } from './metrics/otel.js';
import { describeIssues } from './issues.js';
import { withDeadline, type CallOptions } from './deadline.js';
import { isStandardSchema, type StandardSchemaV1 } from './standardSchema.js';
import { generateSecretValue } from './rotation/generate.js';
import type { RotateOptions, RotationChange, RotationResult } from './rotation/types.js';
import type { FleetBus, FleetEvent, FleetEventBody } from './fleet/bus.js';

/**
 * Options of {@link createSecrets}.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({
 *   environment: 'prod',
 *   providers: [fromEnv(), fromLocalStore({ path: '.secrets/prod.enc.json' })],
 *   cache: { ttlMs: 60_000 },
 * });
 * ```
 */
export interface SecretsOptions {
  /**
   * The environment tag of this process (`dev`, `staging`, `prod`, …).
   * @default the CONNECTOR_SECRETS_ENV variable, read once at creation
   */
  readonly environment?: string;
  /** The providers, asked in this order. */
  readonly providers: readonly SecretProvider[];
  /** The connector identity, passed to providers (and, later, to policy and audit). */
  readonly identity?: string;
  /**
   * Cache settings, or `false` to ask the providers on every call (single-flight still applies).
   * @default { ttlMs: 300_000, maxEntries: 1024, maxStaleMs: 900_000 }
   */
  readonly cache?: CacheOptions | false;
  /**
   * What secrets print as.
   * @default '[REDACTED]'
   */
  readonly placeholder?: string;
  /**
   * Redaction settings of the client's redactor (`secrets.redactor`), which learns every value
   * the providers return.
   * @default {} (minLength 5, every detector on, the client's placeholder)
   * @example
   * ```ts
   * createSecrets({ environment: 'prod', providers, redaction: { minLength: 8, detectors: { jwt: false } } });
   * ```
   */
  readonly redaction?: RedactorOptions;
  /**
   * Settings of the built-in redacting JSON logger (`secrets.logger`).
   * @default { level: 'info', destination: process.stdout }
   * @example
   * ```ts
   * createSecrets({ environment: 'dev', providers, logger: { level: 'debug', bindings: { connector: 'orders-sync' } } });
   * ```
   */
  readonly logger?: LoggerOptions;
  /**
   * The environment variables providers see.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The clock and timers of everything the client does: cache TTLs, handles' refreshes and
   * expiry, guard time windows and approval timeouts, audit and log times, retry pauses, and
   * providers that use the resolve context's clock. Tests pass `createTestClock()` from
   * `connector-secrets/testing`.
   * @default the system clock (which follows `vi.useFakeTimers()`)
   * @example
   * ```ts
   * const clock = createTestClock();
   * const secrets = createSecrets({ environment: 'dev', providers: [mock], clock });
   * await clock.advance(60_000);
   * ```
   */
  readonly clock?: Clock;
  /**
   * Only the time, in epoch milliseconds: an alias kept for older code; timers stay real.
   * Prefer `clock`. Passing both is a ConfigError.
   * @default the clock's `now`
   */
  readonly now?: () => number;
  /**
   * Where audit records go: one sink, several, or `false` for none. A `prod` client without a
   * sink is a {@link ConfigError} unless `false` is passed on purpose.
   * @default no sink (an error in `prod`)
   * @example
   * ```ts
   * audit: [fileAuditSink('audit/orders-sync.jsonl', { hmacKey }), stdoutAuditSink()]
   * ```
   */
  readonly audit?: AuditSink | readonly AuditSink[] | false;
  /**
   * When no audit sink can record an access: `'fail-closed'` denies it with `AuditWriteError`
   * (code `AUDIT_WRITE_FAILED`); `'warn'` lets it through. Every sink failure is also emitted as
   * `audit-error`.
   * @default 'fail-closed' in prod, else 'warn'
   */
  readonly auditFailure?: 'fail-closed' | 'warn';
  /**
   * How gets served from the cache reach the audit sinks. `'summary'`: counted per ref, provider
   * and version and written as one summary record per `auditSummaryIntervalMs` and on close (a
   * sink without `writeSummary` is given each hit); `'each'`: one record per hit, which the
   * caller waits for like any other; `false`: not written. Fetches, denials, failures and every
   * other action are one record each in every mode; metrics and anomaly detection see every hit.
   * @default 'summary'
   * @example
   * ```ts
   * auditCacheHits: 'each' // a record per hit, e.g. where each read must be attributable
   * ```
   */
  readonly auditCacheHits?: 'each' | 'summary' | false;
  /**
   * How often cache-hit summaries are written, in milliseconds of the client's clock.
   * @default 60_000
   */
  readonly auditSummaryIntervalMs?: number;
  /**
   * The only ways to read another environment's secrets: a ref names the environment with
   * `?env=<to>`, and a rule lets this process's environment cross to it for that ref.
   * @default [] (no crossing)
   * @example
   * ```ts
   * crossEnvironment: [{ from: 'staging', to: 'prod', refs: 'secret://orders-replica/**', reason: 'nightly reconciliation' }]
   * ```
   */
  readonly crossEnvironment?: readonly CrossEnvironmentRule[];
  /**
   * A least-privilege access policy: made by `definePolicy`/`loadPolicy`, a document inline, or a
   * JSON/YAML file path (`{ path, sha256 }` pins its digest). When given, anything it does not
   * allow is denied with `PolicyDeniedError`.
   * @default no policy (environment guards only)
   * @example
   * ```ts
   * policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*'] }] }
   * ```
   */
  readonly policy?: PolicySource;
  /**
   * Asked when a policy rule's `requireApproval` applies; only `true` within
   * `approvalTimeoutMs` approves (a throw, `false` or no answer denies). Approvals are asked
   * before a provider fetch; values then served from the cache do not ask again.
   * @default none: accesses that need approval are denied
   * @example
   * ```ts
   * approve: async (req) => (await approvals.request(req.identity, req.ref)).granted === true
   * ```
   */
  readonly approve?: ApprovalHook;
  /**
   * How long an approval hook may take before the access is denied, in milliseconds (at most
   * 2^31 - 1, the longest timer Node runs; a larger value is a ConfigError).
   * @default 30_000
   */
  readonly approvalTimeoutMs?: number;
  /**
   * Whether a secret without an environment tag (from its metadata or its provider's binding)
   * is denied.
   * @default true for `staging` and `prod` (process or target environment), else false
   */
  readonly strictEnvironment?: boolean;
  /**
   * Anomaly detection per identity and ref (off-hours, bursts, repeated denials), or `false`.
   * @default on (with the defaults of AnomalyOptions) when the client audits or has `onAlert`, else off
   */
  readonly anomaly?: AnomalyOptions | false;
  /**
   * Called with each anomaly (as well as `on('anomaly')` listeners and the audit trail).
   * @example
   * ```ts
   * onAlert: (a) => pager.notify(`${a.kind}: ${a.ref} (${a.reason})`)
   * ```
   */
  readonly onAlert?: (anomaly: AnomalyEvent) => void | Promise<void>;
  /**
   * Whether metrics also go to `@opentelemetry/api`. By default the package is used when it is
   * installed (loaded lazily; nothing happens when it is absent). `true` requires it: accesses
   * wait for it to load, and fail with a {@link ConfigError} naming the package when it is
   * missing. `false` never loads it.
   * @default auto-detect
   */
  readonly openTelemetry?: boolean;
  /**
   * A fleet bus (`postgresBus(...)` from `connector-secrets/fleet`) that tells this client what
   * other processes did, and tells them what it does. Heard from another process: `rotated`
   * drops the cached value of the ref and makes its handles read it again (they emit `rotated`),
   * so no get that starts after the event is served the old value; `quarantined` and `lifted`
   * apply as `secrets.quarantine`/`lift` do (audited, not published again); `policy-updated`
   * replaces the policy after checking it (an invalid one is refused and audited);
   * `revoked(leaseId)` drops the cache entry and refreshes the handles holding that lease.
   * Published by this client: its successful rotations, quarantines and lifts. Accesses wait for
   * the bus to be ready, and fail if it can never connect. `close()` does not close the bus: the
   * caller that made it closes it.
   * @default none
   * @example
   * ```ts
   * const fleet = postgresBus({ connectionString: process.env.FLEET_DATABASE_URL });
   * const secrets = createSecrets({ environment: 'prod', providers, audit, fleet });
   * ```
   */
  readonly fleet?: FleetBus;
}

/**
 * A stale value was served because the provider was unavailable.
 */
export interface StaleServedEvent {
  /** The canonical ref (without `#field`). */
  readonly ref: string;
  /** The provider whose earlier answer was served. */
  readonly provider: string;
  /** How long past its freshness the value was, in milliseconds. */
  readonly staleForMs: number;
  /** The refresh error's code. */
  readonly code: string;
}

/** Events of a {@link SecretsClient}. */
export interface SecretsEvents {
  /** A stale value was served because its refresh failed with `PROVIDER_UNAVAILABLE`. */
  stale: [StaleServedEvent];
  /** An event listener threw; the error is passed here instead of breaking the call. */
  'listener-error': [unknown];
  /** An anomaly was detected; it is also audited and given to `onAlert`. */
  anomaly: [AnomalyEvent];
  /** An audit sink failed to record or close. Under `'fail-closed'`, an access no sink recorded was denied. */
  'audit-error': [AuditWriteError];
  /** A fleet bus event from another process was applied (after the cache and handles were told). */
  fleet: [FleetEvent];
  /** Publishing to the fleet bus failed (the local action stands), or a fleet event could not be applied. */
  'fleet-error': [unknown];
  [event: string]: unknown[];
}

/**
 * The client a connector talks to, made by {@link createSecrets}.
 */
export interface SecretsClient extends AsyncDisposable {
  /** The environment tag this client was created for. */
  readonly environment: string;
  /** The connector identity, when given. */
  readonly identity: string | undefined;
  /**
   * The client's redactor. Every value a provider returns is registered with it (with its
   * lines, JSON fields and derived forms) before the `Secret` reaches the caller, and so is
   * every `Secret.map` result; use it to redact text, values, errors and streams.
   * @example
   * ```ts
   * console.error(secrets.redactor.redactError(err));
   * child.stdout.pipe(secrets.redactor.createRedactStream()).pipe(process.stdout);
   * ```
   */
  readonly redactor: Redactor;
  /**
   * A structured JSON logger whose message, fields and errors go through {@link SecretsClient.redactor}.
   * @example
   * ```ts
   * secrets.logger.info('batch synced', { rows: 1200 });
   * const log = secrets.logger.child({ table: 'orders' });
   * ```
   */
  readonly logger: Logger;
  /**
   * Resolves a ref to a text secret.
   * @example
   * ```ts
   * const pw = await secrets.get('secret://orders-db/password');
   * // Give up after 5 s, or when the run is cancelled (the fetch goes on for other callers):
   * const token = await secrets.get('secret://orders-api/token', { timeoutMs: 5_000, signal: run.signal });
   * ```
   */
  get(ref: string | SecretRef, options?: CallOptions): Promise<Secret<string>>;
  /**
   * Resolves a ref to a binary secret: a fresh copy, which `dispose()` zero-fills.
   * @example
   * ```ts
   * using key = await secrets.getBytes('file:///run/secrets/signing.key');
   * ```
   */
  getBytes(ref: string | SecretRef, options?: CallOptions): Promise<Secret<Uint8Array>>;
  /**
   * Resolves several refs in parallel; identical refs are fetched once.
   * @example
   * ```ts
   * const { user, pass } = await secrets.getMany({ user: 'env://DB_USER', pass: 'env://DB_PASS' });
   * ```
   */
  getMany<const M extends Readonly<Record<string, string | SecretRef>>>(refs: M): Promise<{ [K in keyof M]: Secret<string> }>;
  /**
   * Resolves a manifest made by `defineSecrets`, checking JSON secrets against their schemas.
   * @example
   * ```ts
   * const { db } = await secrets.load(orders);
   * ```
   */
  load<S extends SecretSpecs>(manifest: SecretManifest<S>): Promise<LoadedSecrets<S>>;
  /**
   * An auto-refreshing credential for a ref: refreshed ahead of expiry with jitter, renewed
   * while its lease allows, replaced and announced (`onRotate`) when it cannot be, revoked
   * on close. With `schema`, the JSON secret is parsed and checked at each refresh.
   * @example
   * ```ts
   * const creds = secrets.handle('vault://database/creds/etl', { schema: z.object({ username: z.string(), password: z.string() }) });
   * // pg cannot change a pool's login: a new pool for the new credential, the old one ended.
   * creds.onRotate((next) => { const old = pool; pool = new pg.Pool({ user: next.reveal().username, password: next.reveal().password }); void old.end(); });
   * await creds.withCredential(() => pool.query(sql));
   * ```
   */
  handle<Z extends StandardSchemaV1>(ref: string | SecretRef, options: HandleOptions & { readonly schema: Z }): CredentialHandle<StandardSchemaV1.InferOutput<Z>>;
  /**
   * A handle on a manifest entry (`manifest.specs.x`): `{env}` is filled in with this client's
   * environment and the entry's schema applies, as with `load`.
   * @example
   * ```ts
   * const db = secrets.handle(orders.specs.db); // CredentialHandle<{ username: string; password: string }>
   * ```
   */
  handle<S extends SecretSpec>(spec: S, options?: HandleOptions): CredentialHandle<SpecValue<S>>;
  /** An auto-refreshing text credential for a ref (see the overload above). */
  handle(ref: string | SecretRef, options?: HandleOptions): CredentialHandle<string>;
  /**
   * What the providers know about a secret, without reading its value: version, created/updated,
   * rotation and expiry dates, tags. Checked by the environment guards and the policy and audited
   * (action `describe`) exactly like a get; answered by the first provider in the ref's chain
   * that has `describe` and knows the secret. An expired secret is described, not refused.
   * @example
   * ```ts
   * const { version, updatedAt, metadata } = await secrets.describe('vault://kv/prod/orders-db');
   * ```
   */
  describe(ref: string | SecretRef, options?: CallOptions): Promise<DescribedSecret>;
  /** Drops the cached value of a ref, so the next call asks the providers. */
  invalidate(ref: string | SecretRef): void;
  /**
   * Writes a new version of a secret through the first provider of the ref that can `rotate`,
   * checks it with `verify` (writing the previous value back when it is refused), then tells
   * every handle and cache entry of the ref in this process (handles emit `rotated`), and
   * records a `rotate` audit record (identity, ref, new version, and the previous version in
   * its reason; never a value). The ref is guarded like a get. Throws `RotationFailedError`
   * (code `ROTATION_FAILED`, with `rolledBack`) when the write or the verification fails.
   * @example
   * ```ts
   * const result = await secrets.rotate('local://orders-api/token', { generate: { length: 40 } }, {
   *   verify: async (next) => (await fetch(url, { headers: { authorization: `Bearer ${next.reveal()}` } })).ok,
   * });
   * ```
   */
  rotate(ref: string | SecretRef, change: RotationChange, options?: RotateOptions): Promise<RotationResult>;
  /**
   * Quarantines an identity (incident response). When it is this client's identity, from this
   * moment every access (get, getBytes, getMany, load, handle, rotate) is denied with
   * `QuarantinedError` (code `IDENTITY_QUARANTINED`) and audited as denied; the cache is emptied
   * and every handle is closed, which revokes the leases they hold. Another identity is only
   * remembered (and audited): this process does not run as it. The quarantine is recorded as a
   * `quarantine` audit record naming the identity and the reason (through the redactor); it
   * stays in force if that record cannot be written (the call then rejects with the audit error).
   * @example
   * ```ts
   * await secrets.quarantine('orders-sync', { reason: 'INC-2291: token seen in a public paste' });
   * ```
   */
  quarantine(identity: string, options: { readonly reason: string }): Promise<void>;
  /**
   * Lifts a quarantine, audited as `lift`. Handles closed by the quarantine stay closed: make new ones.
   * @example
   * ```ts
   * await secrets.lift('orders-sync', { reason: 'INC-2291 closed; credentials rotated' });
   * ```
   */
  lift(identity: string, options?: { readonly reason?: string }): Promise<void>;
  /** Whether an identity is quarantined in this client. */
  isQuarantined(identity: string): boolean;
  /**
   * Listens to client events; returns an unsubscribe function.
   * @example
   * ```ts
   * secrets.on('stale', (e) => log.warn({ ref: e.ref, staleForMs: e.staleForMs }));
   * ```
   */
  on<K extends keyof SecretsEvents & string>(event: K, listener: (...args: SecretsEvents[K]) => void): () => void;
  /**
   * Counters and latency histograms since creation: accesses, denials by code, provider errors,
   * cache hits, refreshes, rotations.
   * @example
   * ```ts
   * const { accesses, denials, cacheHits } = secrets.metrics();
   * ```
   */
  metrics(): SecretsMetrics;
  /** Closes every handle (revoking leases), aborts calls in flight, closes providers and empties the cache. */
  close(): Promise<void>;
  /**
   * Same as {@link SecretsClient.close}, for `await using`.
   * @example
   * ```ts
   * await using secrets = createSecrets({ environment: 'dev', providers: [fromEnv()] });
   * ```
   */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * What `secrets.describe` returns: a provider's facts about a secret, the canonical ref (without
 * `#field`) and the provider that answered. Never a value.
 */
export interface DescribedSecret extends SecretDescription {
  /** The canonical ref, without `#field`. */
  readonly ref: string;
  /** The provider that answered. */
  readonly provider: string;
}

interface Route {
  readonly ref: SecretRef;
  /** The canonical ref, with `#field`. */
  readonly text: string;
  /** Canonical ref without `#field`: fields of one secret share one fetch. */
  readonly key: string;
  readonly candidates: readonly SecretProvider[];
  /** The guard's static facts: target environment, cross rule, skipped providers. */
  readonly plan: GuardPlan;
}

/** How one access went, filled in by the stages it passes. */
interface Access {
  source: 'fetch' | 'cache';
  pass: GuardPass | undefined;
  /** When the guard let it through to the cache (the client's clock); NaN before. */
  started: number;
}

/** An access of a bulk read: routed, checked by the guard, not fresh in the cache. */
interface BulkStep {
  readonly route: Route;
  readonly access: Access;
  readonly declared: Sensitivity | undefined;
}

/** Codes audited as `denied` (the rest of the errors are `failure`). */
const DENIAL_CODES = new Set<string>(['ENVIRONMENT_MISMATCH', 'POLICY_DENIED', 'ACCESS_DENIED', 'SECRET_EXPIRED', 'AUDIT_WRITE_FAILED', 'IDENTITY_QUARANTINED']);
const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', `${what} must be a function`);
const sinkShape = z.custom<AuditSink>(
  (v) => typeof v === 'object' && v !== null && typeof (v as AuditSink).write === 'function',
  'an audit sink is an object with a write function',
);

const ENVIRONMENT = /^[a-z][a-z0-9_-]*$/;
const providerShape = z.object({
  name: z.string().min(1),
  schemes: z.array(z.string()),
  resolve: z.custom<SecretProvider['resolve']>((v) => typeof v === 'function', 'resolve must be a function'),
});
const optionsSchema = z.object({
  environment: z.string().regex(ENVIRONMENT, 'environment must be a lowercase tag such as dev or prod').optional(),
  providers: z.array(providerShape).min(1, 'at least one provider is required'),
  identity: z.string().min(1).optional(),
  cache: z
    .union([
      z.literal(false),
      z.object({
        ttlMs: z.number().int().nonnegative().optional(),
        maxEntries: z.number().int().positive().optional(),
        maxStaleMs: z.number().int().nonnegative().optional(),
      }).strict(),
    ])
    .optional(),
  placeholder: z.string().optional(),
  redaction: redactorOptionsSchema.optional(),
  logger: loggerOptionsSchema.optional(),
  // process.env is an exotic object that zod's record check refuses; any object of strings will do.
  env: z
    .custom<Readonly<Record<string, string | undefined>>>(
      (v) => typeof v === 'object' && v !== null && Object.values(v).every((x) => x === undefined || typeof x === 'string'),
      'env must be an object of strings, such as process.env',
    )
    .optional(),
  now: z.custom<() => number>((v) => typeof v === 'function', 'now must be a function').optional(),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && ['now', 'setTimeout', 'clearTimeout'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function'),
      'clock must have now, setTimeout and clearTimeout functions',
    )
    .optional(),
  audit: z.union([z.literal(false), sinkShape, z.array(sinkShape)]).optional(),
  auditFailure: z.enum(['fail-closed', 'warn']).optional(),
  auditCacheHits: z.union([z.literal('each'), z.literal('summary'), z.literal(false)]).optional(),
  auditSummaryIntervalMs: z.number().positive().finite().optional(),
  crossEnvironment: z.array(z.object({}).passthrough()).optional(),
  policy: z
    .custom<PolicySource>((v) => typeof v === 'string' || (typeof v === 'object' && v !== null), 'policy must be a policy, a policy document or a file path')
    .optional(),
  approve: fn<ApprovalHook>('approve').optional(),
  approvalTimeoutMs: z.number().int().positive().max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (2^31 - 1, the longest timer Node runs)`).optional(),
  strictEnvironment: z.boolean().optional(),
  anomaly: z.union([z.literal(false), z.object({}).passthrough()]).optional(),
  onAlert: fn<(a: AnomalyEvent) => void>('onAlert').optional(),
  openTelemetry: z.boolean().optional(),
  fleet: z
    .custom<FleetBus>(
      (v) =>
        typeof v === 'object' && v !== null && typeof (v as FleetBus).origin === 'string' && ['publish', 'subscribe', 'ready', 'close'].every((k) => typeof (v as unknown as Record<string, unknown>)[k] === 'function'),
      'fleet must be a fleet bus (postgresBus(...) from connector-secrets/fleet)',
    )
    .optional(),
}).strict();

const MAX_ROUTES = 4096;

/**
 * Creates the client that resolves refs through the providers, caches answers and wraps
 * values in {@link Secret}.
 *
 * @throws {@link ConfigError} when the options are invalid or no environment is set.
 * @example
 * ```ts
 * const secrets = createSecrets({ environment: 'dev', providers: [fromEnv(), fromLocalStore()] });
 * const token = await secrets.get('secret://orders-api/token');
 * await fetch(url, { headers: { authorization: `Bearer ${token.reveal()}` } });
 * await secrets.close();
 * ```
 */
export function createSecrets(options: SecretsOptions): SecretsClient {
  const checked = optionsSchema.safeParse(options);
  if (!checked.success) {
    const why = describeIssues(checked.error.issues, '(options)');
    throw new ConfigError(`invalid createSecrets options: ${why}`);
  }
  const env = options.env ?? process.env;
  const environment = options.environment ?? env['CONNECTOR_SECRETS_ENV'];
  if (options.clock !== undefined && options.now !== undefined) {
    throw new ConfigError('pass either clock or now (an alias of clock.now), not both');
  }
  if (environment === undefined || environment === '') {
    throw new ConfigError('no environment: pass createSecrets({ environment }) or set CONNECTOR_SECRETS_ENV');
  }
  if (!ENVIRONMENT.test(environment)) {
    throw new ConfigError('CONNECTOR_SECRETS_ENV must be a lowercase tag such as dev or prod');
  }
  const providers = [...options.providers];
  const names = new Set<string>();
  for (const p of providers) {
    if (names.has(p.name)) throw new ConfigError(`two providers are named "${p.name}"; names must be unique`);
    names.add(p.name);
  }
  if (environment === 'prod' && sinksOf(options.audit).length === 0 && options.audit !== false) {
    throw new ConfigError(
      "a prod client needs an audit sink: pass createSecrets({ audit: fileAuditSink('audit.jsonl', { hmacKey }) }) " +
        '(or stdoutAuditSink(), callbackAuditSink(fn), or several in an array), or audit: false to run without an audit trail on purpose',
    );
  }
  return new Client(environment, providers, options, env);
}

class Client implements SecretsClient {
  readonly environment: string;
  readonly identity: string | undefined;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly #providers: readonly SecretProvider[];
  readonly #cache: SecretCache | undefined;
  readonly #inflight = new Map<string, Promise<CacheEntry>>();
  readonly #routes = new Map<string, Route>();
  readonly #placeholder: string | undefined;
  readonly #now: () => number;
  /** The one clock: handles, guard, audit, retries and providers (through the resolve context) use it. */
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  readonly #ctx: ResolveContext;
  readonly #events = new Emitter<SecretsEvents>((err) => this.#events.emit('listener-error', err));
  readonly #handles = new Set<CredentialHandle<unknown>>();
  /** Handles to tell when a provider reports a change, by canonical ref (without `#field`). */
  readonly #watchers = new Map<string, Set<() => void>>();
  readonly #unwatch: (() => void)[] = [];
  readonly #guard: Guard;
  readonly #auditor: Auditor;
  readonly #metrics = new MetricsRecorder();
  readonly #anomaly: AnomalyDetector | undefined;
  readonly #onAlert: ((anomaly: AnomalyEvent) => void | Promise<void>) | undefined;
  /** Set while `openTelemetry: true` loads its package or the fleet bus connects; stays rejected when either cannot. */
  #otelGate: Promise<void> | undefined;
  readonly #fleet: FleetBus | undefined;
  #unsubscribeFleet: (() => void) | undefined;
  /** Bumped per ref (canonical, without `#field`) on each change: a fetch that began before a change does not fill the cache. */
  readonly #generations = new Map<string, number>();
  /** What each handle's source holds, so a fleet `revoked(leaseId)` finds the handles holding that lease. */
  readonly #leaseHolders = new Set<{ readonly key: string; readonly leaseId: () => string | undefined; readonly changed: () => void }>();
  #closed = false;
  /** Quarantined identities, with their reasons. */
  readonly #quarantined = new Map<string, string>();
  /** Cancels of the `retire` steps waiting for their rotation's overlap to end. */
  readonly #retiring = new Set<() => void>();
  /** Whether this client's own identity is quarantined: checked on every access, so one flag. */
  #denyAll = false;

  constructor(environment: string, providers: SecretProvider[], options: SecretsOptions, env: ResolveContext['env']) {
    this.environment = environment;
    this.identity = options.identity;
    this.#providers = providers;
    this.#cache = options.cache === false ? undefined : new SecretCache(options.cache);
    this.#placeholder = options.placeholder;
    // Looked up at each call, so fake clocks installed after creation apply.
    const given = options.now;
    this.#clock = options.clock ?? (given === undefined ? systemClock : { ...systemClock, now: () => given() });
    const clock = this.#clock;
    this.#now = () => clock.now();
    const placeholder = options.redaction?.placeholder ?? options.placeholder;
    this.redactor = createRedactor({ ...options.redaction, ...(placeholder === undefined ? {} : { placeholder }) });
    this.logger = createLogger(this.redactor, { now: this.#now, ...options.logger });
    // Every call in flight listens to this one signal (to stop when the client closes), and each
    // removes its listener when done: many concurrent calls are normal, not a leak to warn about.
    setMaxListeners(0, this.#abort.signal);
    this.#ctx = { signal: this.#abort.signal, env, environment, identity: this.identity, now: this.#now, clock };
    const now = this.#now;
    this.#onAlert = options.onAlert;
    const detect = options.anomaly === undefined ? options.onAlert !== undefined || sinksOf(options.audit).length > 0 : options.anomaly !== false;
    this.#anomaly = detect
      ? new AnomalyDetector(options.anomaly || {}, { environment, now, raise: (a) => queueMicrotask(() => this.#alert(a)) })
      : undefined;
    this.#guard = new Guard({
      environment,
      identity: this.identity,
      strict: options.strictEnvironment,
      crossEnvironment: options.crossEnvironment,
      policy: options.policy,
      approve: options.approve,
      approvalTimeoutMs: options.approvalTimeoutMs ?? 30_000,
      now,
      clock,
      onOutsideWindow: (ref, reason) => this.#anomaly?.outsideWindow(this.identity ?? null, ref, reason),
    });
    this.#auditor = new Auditor({
      sinks: sinksOf(options.audit),
      identity: this.identity,
      environment,
      now,
      clock,
      failure: options.auditFailure ?? (environment === 'prod' ? 'fail-closed' : 'warn'),
      onSinkError: (err) => {
        this.#metrics.auditFailed();
        this.#events.emit('audit-error', err);
      },
      count: (input) => this.#metrics.observe(input),
      cacheHits: options.auditCacheHits ?? 'summary',
      ...(options.auditSummaryIntervalMs === undefined ? {} : { summaryIntervalMs: options.auditSummaryIntervalMs }),
      ...(this.#anomaly === undefined ? {} : { onSummarisedHit: this.#anomaly.hit(this.identity ?? null) }),
    });
    if (this.#anomaly !== undefined) {
      const anomaly = this.#anomaly;
      this.#auditor.observe((event) => anomaly.observe(event));
    }
    for (const p of providers) if (p.watch !== undefined) this.#unwatch.push(p.watch((ref) => this.#changed(ref)));
    const gates: Promise<unknown>[] = [];
    if (options.openTelemetry !== false) {
      const loading = loadOpenTelemetry().then((api) => {
        const bridge = this.#closed ? undefined : createOtelBridge(api, environment);
        if (bridge !== undefined) this.#metrics.attach(bridge);
      });
      // Asked for by name: accesses wait for the bridge, and all fail with the error when the
      // package is missing (a rejected gate stays). Auto-detection never holds anything up.
      if (options.openTelemetry === true) gates.push(loading);
      else loading.catch(() => {});
    }
    this.#fleet = options.fleet;
    if (this.#fleet !== undefined) {
      // Subscribed before the first access, so nothing published after it is missed.
      this.#unsubscribeFleet = this.#fleet.subscribe((event) => this.#heard(event));
      gates.push(this.#fleet.ready());
    }
    if (gates.length > 0) {
      const gate = Promise.all(gates).then(() => {
        if (this.#otelGate === gate) this.#otelGate = undefined;
      });
      gate.catch(() => {});
      this.#otelGate = gate;
    }
  }

  get(ref: string | SecretRef, options?: CallOptions): Promise<Secret<string>> {
    if (options === undefined) return this.#access(ref, undefined, this.#makeText);
    return withDeadline(() => this.#access(ref, undefined, this.#makeText), options, disposeLate);
  }

  getBytes(ref: string | SecretRef, options?: CallOptions): Promise<Secret<Uint8Array>> {
    return withDeadline(() => this.#access(ref, undefined, this.#makeBytes), options, disposeLate);
  }

  // Made once per client, so a warm get allocates no closure.
  readonly #makeText = (route: Route, entry: CacheEntry): Secret<string> => this.#wrap(this.#text(route, entry), route, entry);
  readonly #makeBytes = (route: Route, entry: CacheEntry): Secret<Uint8Array> => {
    const { value } = entry.resolved;
    const bytes =
      route.ref.fieldPath !== undefined
        ? Buffer.from(selectField(entry, route.ref.fieldPath, route.key), 'utf8')
        : typeof value === 'string'
          ? Buffer.from(value, 'utf8')
          : Uint8Array.from(value);
    return this.#wrap(new Uint8Array(bytes), route, entry);
  };

  /**
   * One audited access: route (parse, guard plan), entry (guard check, cache, fetch), `make`
   * (field, wrap), then the audit record, which under `'fail-closed'` must be kept before the
   * value is returned. Every failure is audited too, and rethrown unchanged.
   */
  #access<T>(input: string | SecretRef, declared: Sensitivity | undefined, make: (route: Route, entry: CacheEntry) => T): Promise<T> {
    const access: Access = { source: 'fetch', pass: undefined, started: NaN };
    let route: Route | undefined;
    try {
      route = this.#route(input);
      // A fresh cache hit is served without an await: guard check, lookup and wrap are synchronous.
      if (this.#guard.ready === undefined && this.#otelGate === undefined) {
        const cached = this.#lookup(route, access, declared);
        if (cached !== undefined && access.started < cached.freshUntil) {
          access.source = 'cache';
          const result = make(route, cached);
          if (!this.#auditor.eventful) {
            this.#metrics.served(true, 0);
            return Promise.resolve(result);
          }
          return this.#served(route, cached, access, result);
        }
      }
    } catch (err) {
      return this.#failed(input, route, access, err);
    }
    return this.#accessSlow(input, route, access, declared, make);
  }

  async #accessSlow<T>(
    input: string | SecretRef,
    route: Route,
    access: Access,
    declared: Sensitivity | undefined,
    make: (route: Route, entry: CacheEntry) => T,
  ): Promise<T> {
    let entry: CacheEntry;
    let result: T;
    try {
      entry = await this.#entry(route, access, declared);
      result = make(route, entry);
    } catch (err) {
      return this.#failed(input, route, access, err);
    }
    return this.#served(route, entry, access, result);
  }

  /** Audits a failure (a sink that cannot record it is reported as audit-error) and rethrows it unchanged. */
  async #failed(input: string | SecretRef, route: Route | undefined, access: Access, err: unknown): Promise<never> {
    const recorded = this.#auditor.record(this.#failureRecord(input, route, access, err));
    if (recorded !== undefined) await recorded.catch(() => {});
    throw err;
  }

  /**
   * Counts and audits a served value; under `'fail-closed'` the record must be kept before the
   * value is returned. Not async: a summarised cache hit has nothing to wait for.
   */
  #served<T>(route: Route, entry: CacheEntry, access: Access, result: T): Promise<T> {
    const cached = access.source === 'cache';
    // A cache hit waits for nothing; the clock is read again only after a fetch.
    const latencyMs = cached ? 0 : this.#now() - access.started;
    if (!this.#auditor.eventful) {
      this.#metrics.served(cached, latencyMs);
      return Promise.resolve(result);
    }
    const record: AuditRecordInput & { readonly ref: string } = {
      action: cached ? 'cache-hit' : 'resolve',
      outcome: 'success',
      ref: route.key,
      provider: entry.provider,
      latencyMs,
      version: entry.resolved.version ?? null,
      ...ruleOf(access.pass),
    };
    const recorded = cached ? this.#auditor.hit(record) : this.#auditor.record(record);
    return recorded === undefined ? Promise.resolve(result) : this.#kept(recorded, route, entry, result);
  }

  async #kept<T>(recorded: Promise<void>, route: Route, entry: CacheEntry, result: T): Promise<T> {
    try {
      await recorded;
    } catch (err) {
      // Fail-closed: the value is not handed out, and not kept for a later access either.
      if (this.#cache?.get(route.key, this.#now()) === entry) this.#cache.delete(route.key);
      if (result instanceof Secret) result.dispose();
      throw err;
    }
    return result;
  }

  #failureRecord(input: string | SecretRef, route: Route | undefined, access: Access, err: unknown): AuditRecordInput {
    const known = isConnectorSecretsError(err);
    const code = known ? err.code : 'UNKNOWN';
    return {
      action: access.source === 'cache' ? 'cache-hit' : 'resolve',
      outcome: DENIAL_CODES.has(code) ? 'denied' : 'failure',
      ref: route?.key ?? this.#routableKey(input),
      provider: known ? (err.provider ?? null) : null,
      code,
      latencyMs: Number.isNaN(access.started) ? 0 : this.#now() - access.started,
      ...ruleOf(access.pass),
      ...(known && 'rule' in err && typeof err.rule === 'string' ? { rule: err.rule } : {}),
      // Our messages carry no values; a provider's own error could, so it goes through the redactor.
      reason: known ? this.redactor.redact(err.message) : `${err instanceof Error ? err.name : typeof err} (not shown)`,
    };
  }

  /**
   * The canonical key of an input the client could not route, for its audit record: only when it
   * parses and some provider serves it. Anything else (a pasted URL, a token) is recorded as null.
   */
  #routableKey(input: string | SecretRef): string | null {
    try {
      const ref = parseRef(typeof input === 'string' ? input : String(input));
      candidatesFor(ref, this.#providers);
      const { scheme, path, segments, params } = ref;
      return formatRef({ scheme, path, segments, params });
    } catch {
      return null;
    }
  }

  /** Emits, audits and hands on one anomaly; never throws. */
  #alert(anomaly: AnomalyEvent): void {
    this.#events.emit('anomaly', anomaly);
    const recorded = this.#auditor.record({ action: 'anomaly', outcome: 'alert', ref: anomaly.ref, code: anomaly.kind, reason: anomaly.reason });
    recorded?.catch(() => {});
    if (this.#onAlert === undefined) return;
    try {
      void Promise.resolve(this.#onAlert(anomaly)).catch((err: unknown) => this.#events.emit('listener-error', err));
    } catch (err) {
      this.#events.emit('listener-error', err);
    }
  }

  async getMany<const M extends Readonly<Record<string, string | SecretRef>>>(refs: M): Promise<{ [K in keyof M]: Secret<string> }> {
    if (typeof refs !== 'object' || refs === null) throw new ConfigError('getMany() expects an object of refs by name');
    const names = Object.keys(refs);
    const values = await this.#accessMany(names.map((n) => ({ input: refs[n]!, declared: undefined })), this.#makeText);
    return Object.fromEntries(names.map((n, i) => [n, values[i]])) as { [K in keyof M]: Secret<string> };
  }

  async load<S extends SecretSpecs>(manifest: SecretManifest<S>): Promise<LoadedSecrets<S>> {
    if (!isManifest(manifest)) throw new ConfigError('load() expects a manifest made by defineSecrets()');
    const specs = Object.entries(manifest.specs);
    const refs = Object.fromEntries(specs.map(([name, spec]) => [name, refFor(spec, this.environment)]));
    const loaded = await this.#accessMany(specs.map(([name, spec]) => ({ input: refs[name]!, declared: spec.sensitivity ?? 'high' })), this.#makeText);
    const texts = Object.fromEntries(specs.map(([name], i) => [name, loaded[i]!]));
    const out: Record<string, Secret<unknown>> = {};
    for (const [name, spec] of specs) {
      const secret = texts[name]!;
      if (spec.schema === undefined) {
        out[name] = secret;
        continue;
      }
      const parsed = await checkSchema(name, spec.schema, secret.reveal(), secret.ref ?? refs[name]!);
      out[name] = new Secret(parsed, this.#info(secret.ref!, secret.provider!, secret));
    }
    return out as LoadedSecrets<S>;
  }

  /**
   * Several audited accesses, each exactly as {@link Client.#access} makes it, except that the
   * cold ones a bulk-capable provider is first in line for are fetched together (see #bulk).
   */
  #accessMany<T>(items: readonly { input: string | SecretRef; declared: Sensitivity | undefined }[], make: (route: Route, entry: CacheEntry) => T): Promise<T[]> {
    const steps = items.map(({ input, declared }) => {
      const access: Access = { source: 'fetch', pass: undefined, started: NaN };
      let route: Route | undefined;
      try {
        route = this.#route(input);
        // While a policy file loads, the guard has not checked yet: such refs take the single path.
        const cached = this.#guard.ready === undefined ? this.#lookup(route, access, declared) : undefined;
        return { input, declared, access, route, cached, failed: false as const };
      } catch (err) {
        return { input, declared, access, route, failed: true as const, err };
      }
    });
    this.#bulk(steps.filter((s) => !s.failed && !Number.isNaN(s.access.started) && !(s.cached !== undefined && s.access.started < s.cached.freshUntil)) as BulkStep[]);
    return Promise.all(
      steps.map((s) => {
        if (s.failed) return this.#failed(s.input, s.route, s.access, s.err);
        const { input, route, access, cached, declared } = s;
        if (cached !== undefined && access.started < cached.freshUntil) {
          access.source = 'cache';
          let result: T;
          try {
            result = make(route, cached);
          } catch (err) {
            return this.#failed(input, route, access, err);
          }
          return this.#served(route, cached, access, result);
        }
        return this.#accessSlow(input, route, access, declared, make);
      }),
    );
  }

  /**
   * Starts one bulk read per provider for cold refs whose guard check passed: the provider is the
   * first candidate, has `resolveMany`, and at least two distinct secrets need it; refs waiting on
   * an approval, or already in flight, take the single path. Each ref's fetch is registered as its
   * single-flight, so the accesses that follow join it, and its chain walk, post-fetch guard,
   * redactor and cache steps are those of a single fetch: only the first provider's answer comes
   * from the bulk read (or from `resolve` when the bulk read throws or leaves the ref out).
   */
  #bulk(steps: readonly BulkStep[]): void {
    const groups = new Map<SecretProvider, Map<string, BulkStep>>();
    for (const step of steps) {
      const pass = step.access.pass;
      const first = step.route.candidates[0];
      if (first?.resolveMany === undefined || pass === undefined || pass.approval !== undefined || pass.cross?.approve !== undefined) continue;
      if (this.#inflight.has(step.route.key)) continue;
      let group = groups.get(first);
      if (group === undefined) groups.set(first, (group = new Map()));
      if (!group.has(step.route.key)) group.set(step.route.key, step);
    }
    for (const [provider, group] of groups) {
      if (group.size < 2) continue;
      const members = [...group.values()];
      const answers = Promise.resolve()
        .then(() => provider.resolveMany!(members.map((m) => m.route.ref), this.#ctx))
        .then(
          (results) => results,
          () => undefined,
        );
      members.forEach((member, i) => {
        const { ref } = member.route;
        const ask = async (p: SecretProvider): Promise<ResolvedSecret> => {
          const result = p === provider ? (await answers)?.[i] : undefined;
          if (result === undefined) return p.resolve(ref, this.#ctx);
          if (result.status === 'rejected') throw result.reason;
          return result.value;
        };
        const flight = this.#fetch(member.route, member.access.pass, member.declared, ask).finally(() => this.#inflight.delete(member.route.key));
        this.#inflight.set(member.route.key, flight);
      });
    }
  }

  handle(input: string | SecretRef | SecretSpec, options: HandleOptions & { readonly schema?: StandardSchemaV1 } = {}): CredentialHandle<never> {
    // A manifest entry: its ref for this environment, its schema unless the options name one.
    const spec = typeof input === 'object' && isSpec(input) ? input : undefined;
    const ref = spec === undefined ? (input as string | SecretRef) : refFor(spec, this.environment);
    if (spec?.schema !== undefined && options.schema === undefined) options = { ...options, schema: spec.schema };
    if (options.schema !== undefined && !isStandardSchema(options.schema)) {
      throw new ConfigError('handle() options: schema must implement Standard Schema (zod ≥ 3.24, valibot, ArkType…)');
    }
    let route: Route;
    try {
      route = this.#route(ref);
    } catch (err) {
      // Refused like a get: the refusal is recorded (in the background, as handle() is synchronous).
      void this.#auditBackground(this.#failureRecord(ref, undefined, { source: 'fetch', pass: undefined, started: NaN }, err));
      throw err;
    }
    const { schema, ...handleOptions } = options;
    // A handle's own `clock` option is an alias kept for older code; the client's clock is the default.
    const clock = handleOptions.clock ?? this.#clock;
    const source = this.#source(route, schema);
    const handle = createCredentialHandle({ ...source, closed: () => this.#handles.delete(handle) }, { ...handleOptions, clock });
    // A rotation is announced in the background: its record cannot fail a caller.
    handle.on('rotated', (next) => void this.#auditBackground({ action: 'rotate', outcome: 'success', ref: route.key, provider: next.provider ?? null, version: next.version ?? null }));
    this.#handles.add(handle);
    return handle as CredentialHandle<never>;
  }

  describe(ref: string | SecretRef, options?: CallOptions): Promise<DescribedSecret> {
    return withDeadline(() => this.#describe(ref), options, () => {});
  }

  /** A get without the value: same route, guard (pre- and post-check, less expiry), policy and audit trail. */
  async #describe(input: string | SecretRef): Promise<DescribedSecret> {
    const access: Access = { source: 'fetch', pass: undefined, started: NaN };
    let route: Route | undefined;
    let answer: { provider: SecretProvider; description: SecretDescription };
    try {
      route = this.#route(input);
      if (this.#guard.ready !== undefined) await this.#guard.ready;
      access.pass = this.#guard.check(route.key, route.plan, undefined);
      access.started = this.#now();
      await this.#guard.approve(route.key, route.plan, access.pass);
      try {
        answer = await describeChain(route.ref, route.candidates, this.#ctx);
      } catch (err) {
        throw withSkipped(err, route);
      }
      const { metadata } = answer.description;
      await this.#guard.verify(route.key, route.plan, access.pass, answer.provider, { value: '', ...(metadata === undefined ? {} : { metadata }) }, undefined, false);
    } catch (err) {
      const recorded = this.#auditor.record({ ...this.#failureRecord(input, route, access, err), action: 'describe' });
      if (recorded !== undefined) await recorded.catch(() => {});
      throw err;
    }
    // Under fail-closed, facts no sink could record are not handed out either.
    await this.#auditor.record({
      action: 'describe',
      outcome: 'success',
      ref: route.key,
      provider: answer.provider.name,
      latencyMs: this.#now() - access.started,
      version: answer.description.version ?? null,
      ...ruleOf(access.pass),
    });
    return { ...answer.description, ref: route.key, provider: answer.provider.name };
  }

  invalidate(ref: string | SecretRef): void {
    this.#cache?.delete(this.#route(ref).key);
  }

  async quarantine(identity: string, options: { readonly reason: string }): Promise<void> {
    if (typeof identity !== 'string' || identity === '') throw new ConfigError('quarantine needs an identity (a non-empty string)');
    if (typeof options?.reason !== 'string' || options.reason.trim() === '') throw new ConfigError('quarantine needs { reason } (a non-empty string)');
    const reason = this.redactor.redact(options.reason);
    let recorded: unknown;
    try {
      await this.#applyQuarantine(identity, reason, '');
    } catch (err) {
      recorded = err;
    }
    // Published even when the local record failed: the quarantine is in force here, and must be everywhere.
    const unpublished = await this.#publish({ type: 'quarantined', identity, reason });
    if (recorded !== undefined) throw recorded;
    if (unpublished !== undefined) throw unpublished;
  }

  /** Puts a quarantine in force here and audits it (a fleet event applies it the same way, without publishing). */
  async #applyQuarantine(identity: string, reason: string, via: string): Promise<void> {
    // In force before anything is awaited: no access slips in while the record is written.
    this.#quarantined.set(identity, reason);
    let closed = 0;
    if (identity === this.identity) {
      this.#denyAll = true;
      this.#cache?.clear();
      const handles = [...this.#handles];
      closed = handles.length;
      await Promise.allSettled(handles.map((h) => h.close()));
    }
    const own = identity === this.identity ? `; this client's accesses are denied, ${closed} handle(s) closed and their leases revoked` : '';
    await this.#auditor.record({ action: 'quarantine', outcome: 'success', ref: null, reason: `identity ${identity} quarantined${via}: ${reason}${own}` });
  }

  async lift(identity: string, options: { readonly reason?: string } = {}): Promise<void> {
    if (typeof identity !== 'string' || identity === '') throw new ConfigError('lift needs an identity (a non-empty string)');
    let recorded: unknown;
    try {
      await this.#applyLift(identity, options.reason, '');
    } catch (err) {
      recorded = err;
    }
    const reason = options.reason === undefined ? undefined : this.redactor.redact(options.reason);
    const unpublished = await this.#publish({ type: 'lifted', identity, ...(reason === undefined ? {} : { reason }) });
    if (recorded !== undefined) throw recorded;
    if (unpublished !== undefined) throw unpublished;
  }

  async #applyLift(identity: string, reason: string | undefined, via: string): Promise<void> {
    const was = this.#quarantined.delete(identity);
    if (identity === this.identity) this.#denyAll = false;
    const why = reason === undefined ? '' : `: ${this.redactor.redact(reason)}`;
    await this.#auditor.record({ action: 'lift', outcome: 'success', ref: null, reason: `identity ${identity} ${was ? 'lifted' : 'was not quarantined'}${via}${why}` });
  }

  isQuarantined(identity: string): boolean {
    return this.#quarantined.has(identity);
  }

  async rotate(input: string | SecretRef, change: RotationChange, options: RotateOptions = {}): Promise<RotationResult> {
    const route = this.#route(input);
    const ids = { ref: route.key };
    if (route.ref.fieldPath !== undefined) throw new ConfigError('rotate writes a whole secret: remove the #field from the ref', ids);
    if (route.ref.params['version'] !== undefined) throw new ConfigError('rotate writes a new version: remove ?version= from the ref', ids);
    const overlapMs = options.overlapMs ?? 0;
    if (!Number.isInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_TIMER_MS) throw new ConfigError(`overlapMs must be an integer from 0 to ${MAX_TIMER_MS}`, ids);
    const provider = route.candidates.find((p) => p.rotate !== undefined);
    if (provider?.rotate === undefined) throw new ConfigError('no provider of this ref can rotate secrets', ids);
    const value = 'value' in change ? change.value : generateSecretValue(change.generate, options.random);
    if (typeof value !== 'string' || value === '') throw new ConfigError('the new value must be a non-empty string', ids);
    const started = this.#now();
    const record = { action: 'rotate', ref: route.key, provider: provider.name } as const;
    const fail = async (err: unknown, reason: string, version: string | undefined): Promise<never> => {
      await this.#auditBackground({ ...record, outcome: 'failure', code: 'ROTATION_FAILED', version: version ?? null, reason, latencyMs: this.#now() - started });
      throw err;
    };
    // The rotation is an access: the guard decides as for a get, and a denial is audited as one.
    let previous: ResolvedSecret;
    try {
      if (this.#guard.ready !== undefined) await this.#guard.ready;
      if (this.#otelGate !== undefined) await this.#otelGate;
      this.#guard.check(route.key, route.plan, undefined);
      previous = await provider.resolve(route.ref, this.#ctx);
    } catch (err) {
      return this.#failed(input, route, { source: 'fetch', pass: undefined, started }, err);
    }
    // Both values are known to the redactor before any error or log could carry them.
    this.redactor.add(previous.value, { ref: route.key });
    this.redactor.add(value, { ref: route.key });
    const previousText = typeof previous.value === 'string' ? previous.value : decodeUtf8(previous.value, route.key, provider.name);
    const before = new Secret(previousText, this.#info(route.text, provider.name, previous));
    let written: ResolvedSecret;
    try {
      written = await provider.rotate(route.ref, value, this.#ctx);
    } catch (err) {
      const wrapped = new RotationFailedError('the provider refused the new version; nothing changed', { ...ids, provider: provider.name, rolledBack: true, cause: err });
      return fail(wrapped, `write refused (${codeOf(err)})`, previous.version);
    }
    if (options.verify !== undefined) {
      const next = new Secret(value, this.#info(route.text, provider.name, written));
      let refused: unknown;
      try {
        if ((await options.verify(next, before)) === false) refused = new ConfigError('verify returned false', ids);
      } catch (err) {
        refused = err;
      }
      if (refused !== undefined) {
        let rolledBack = true;
        try {
          await provider.rotate(route.ref, previousText, this.#ctx);
        } catch {
          rolledBack = false;
        }
        this.#changed(route.key);
        const message = rolledBack
          ? `verification refused version ${written.version ?? '(unversioned)'}; the previous value was written back`
          : `verification refused version ${written.version ?? '(unversioned)'} and writing the previous value back failed: the secret holds the unverified value`;
        const err = new RotationFailedError(message, { ...ids, provider: provider.name, rolledBack, cause: refused });
        return fail(err, message, written.version);
      }
    }
    this.#changed(route.key);
    const reason = `rotated from version ${previous.version ?? '(unversioned)'}${options.verify === undefined ? '' : ', verified'}`;
    await this.#auditor.record({ ...record, outcome: 'success', version: written.version ?? null, reason, latencyMs: this.#now() - started });
    // The rotation stands whether or not the fleet hears of it: a failure is audited and emitted as 'fleet-error'.
    await this.#publish({ type: 'rotated', ref: route.key, version: written.version ?? null });
    const retire = options.retire;
    const retired = retire === undefined ? undefined : this.#retireLater(overlapMs, () => retire(before), { ...record, version: previous.version ?? null });
    return { ref: route.key, provider: provider.name, previousVersion: previous.version, version: written.version, retired };
  }

  /**
   * Runs `retire` after the overlap, on the client's clock (not a background timer: `retired` is
   * awaited). Closing the client first cancels it: `retired` resolves false, audited as a failure.
   */
  #retireLater(overlapMs: number, retire: () => unknown, record: Omit<AuditRecordInput, 'outcome'>): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const cancel = () => {
        this.#clock.clearTimeout(timer);
        void this.#auditBackground({ ...record, outcome: 'failure', code: 'ABORTED', reason: 'the client closed before the overlap ended: the previous version was not retired' }).then(() => resolve(false));
      };
      const timer = this.#clock.setTimeout(() => {
        this.#retiring.delete(cancel);
        Promise.resolve()
          .then(retire)
          .then(
            () => resolve(true),
            async (err: unknown) => {
              await this.#auditBackground({ ...record, outcome: 'failure', code: codeOf(err), reason: 'retiring the previous version failed' });
              resolve(false);
            },
          );
      }, overlapMs);
      this.#retiring.add(cancel);
    });
  }

  on<K extends keyof SecretsEvents & string>(event: K, listener: (...args: SecretsEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  metrics(): SecretsMetrics {
    return this.#metrics.snapshot();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The bus belongs to whoever made it: unsubscribed here, never closed.
    this.#unsubscribeFleet?.();
    this.#unsubscribeFleet = undefined;
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    for (const cancel of [...this.#retiring]) cancel();
    this.#retiring.clear();
    await Promise.allSettled([...this.#handles].map((h) => h.close()));
    this.#abort.abort(new ConfigError('the secrets client was closed'));
    this.#cache?.clear();
    this.#inflight.clear();
    await Promise.allSettled(this.#providers.map((p) => p.close?.()));
    await this.#auditor.close();
    this.#events.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A provider says a value changed: drop the cached copy and let the handles on it re-read. */
  #changed(ref: string): void {
    let key: string;
    try {
      const { scheme, path, segments, params } = parseRef(ref);
      key = formatRef({ scheme, path, segments, params });
    } catch {
      return; // Not a ref this client could have asked for.
    }
    this.#cache?.delete(key);
    // A fetch already in flight may carry the old value: later calls start their own, and it
    // does not fill the cache (see #fetch).
    this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
    this.#inflight.delete(key);
    for (const notify of [...(this.#watchers.get(key) ?? [])]) notify();
  }

  /** One fleet event: applied synchronously where it can be, so the next access already sees it. */
  #heard(event: FleetEvent): void {
    if (this.#closed || event.origin === this.#fleet?.origin) return;
    try {
      switch (event.type) {
        case 'rotated':
          this.#changed(event.ref);
          break;
        case 'revoked':
          this.#revoked(event.leaseId);
          break;
        case 'quarantined':
          void this.#applyQuarantine(event.identity, this.redactor.redact(event.reason), ` (fleet event ${event.id} from ${event.origin})`).catch((err: unknown) => this.#events.emit('fleet-error', err));
          break;
        case 'lifted':
          void this.#applyLift(event.identity, event.reason, ` (fleet event ${event.id} from ${event.origin})`).catch((err: unknown) => this.#events.emit('fleet-error', err));
          break;
        case 'policy-updated':
          this.#policyUpdated(event);
          break;
      }
    } catch (err) {
      this.#events.emit('fleet-error', err);
      return;
    }
    this.#events.emit('fleet', event);
  }

  /** A lease revoked elsewhere: its cache entry goes, and the handles holding it read a new credential. */
  #revoked(leaseId: string): void {
    const now = this.#now();
    for (const holder of [...this.#leaseHolders]) {
      if (holder.leaseId() !== leaseId) continue;
      if (this.#cache?.get(holder.key, now)?.resolved.lease?.id === leaseId) this.#cache.delete(holder.key);
      holder.changed();
    }
    for (const key of [...this.#routes.values()].map((r) => r.key)) {
      if (this.#cache?.get(key, now)?.resolved.lease?.id === leaseId) {
        this.#cache.delete(key);
        this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
        this.#inflight.delete(key);
      }
    }
  }

  #policyUpdated(event: FleetEvent & { readonly type: 'policy-updated' }): void {
    const from = `fleet event ${event.id} from ${event.origin}`;
    try {
      this.#guard.replacePolicy(event.policy);
    } catch (err) {
      void this.#auditBackground({ action: 'policy-update', outcome: 'failure', ref: null, code: codeOf(err), reason: `refused an invalid policy (${from}); the policy in force stays` });
      throw err;
    }
    void this.#auditBackground({ action: 'policy-update', outcome: 'success', ref: null, reason: `policy replaced (${from})` });
  }

  /** Tells the fleet; a failure is audited and emitted as `fleet-error`, and returned for callers that must fail on it. */
  async #publish(body: FleetEventBody): Promise<unknown> {
    if (this.#fleet === undefined) return undefined;
    try {
      await this.#fleet.publish(body);
      return undefined;
    } catch (err) {
      const ref = body.type === 'rotated' ? body.ref : null;
      await this.#auditBackground({ action: body.type === 'rotated' ? 'rotate' : body.type === 'lifted' ? 'lift' : 'quarantine', outcome: 'failure', ref, code: codeOf(err), reason: `the fleet bus (${this.#fleet.name}) was not told of the ${body.type} event` });
      this.#events.emit('fleet-error', err);
      return err;
    }
  }

  /** Parses and routes a ref once; the result is reused on every warm call. */
  #route(input: string | SecretRef): Route {
    if (this.#closed) throw new ConfigError('the secrets client was closed');
    if (this.#denyAll) throw new QuarantinedError(`identity ${this.identity} is quarantined: every access is denied until it is lifted`, { identity: this.identity });
    const text = typeof input === 'string' ? input : String(input);
    let route = this.#routes.get(text);
    if (route !== undefined) return route;
    // Always parsed from its text: an object that only looks like a SecretRef (or whose fields
    // disagree with its toString) can never route, guard and fetch different names.
    const ref = parseRef(text);
    const { scheme, path, segments, params } = ref;
    const key = formatRef({ scheme, path, segments, params });
    const plan = this.#guard.plan(ref, candidatesFor(ref, this.#providers));
    route = { ref, text: String(ref), key, candidates: plan.candidates, plan };
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
    this.#routes.set(text, route);
    return route;
  }

  /**
   * The guard's pre-fetch check (every access, cache hits included), then a fresh cache entry,
   * or a single-flight fetch; bounded stale value when the fetch is unavailable.
   */
  #entry(route: Route, access: Access = { source: 'fetch', pass: undefined, started: NaN }, declared?: Sensitivity): Promise<CacheEntry> {
    const loading = this.#guard.ready ?? this.#otelGate;
    if (loading !== undefined) return loading.then(() => this.#entry(route, access, declared));
    // The fast path of #access may have checked already; the guard runs once per access.
    const cached = Number.isNaN(access.started) ? this.#lookup(route, access, declared) : this.#cache?.get(route.key, access.started);
    if (cached !== undefined && access.started < cached.freshUntil) {
      access.source = 'cache';
      return Promise.resolve(cached);
    }
    const flight = this.#flight(route, access.pass, declared);
    if (cached === undefined) return flight;
    return flight.catch((err: unknown) => {
      const now2 = this.#now();
      if (err instanceof ConnectorSecretsError && err.code === 'PROVIDER_UNAVAILABLE' && now2 < cached.staleUntil) {
        this.#events.emit('stale', { ref: route.key, provider: cached.provider, staleForMs: now2 - cached.freshUntil, code: err.code });
        access.source = 'cache';
        return cached;
      }
      throw err;
    });
  }

  /** The guard's pre-fetch check (every access, cache hits included), then the cache entry, fresh or stale. */
  #lookup(route: Route, access: Access, declared: Sensitivity | undefined): CacheEntry | undefined {
    access.pass = this.#guard.check(route.key, route.plan, declared);
    const now = this.#now();
    access.started = now;
    return this.#cache?.get(route.key, now);
  }

  /** The fetch in flight for a ref, shared by gets and handles; a new one when there is none. */
  #flight(route: Route, pass?: GuardPass, declared?: Sensitivity): Promise<CacheEntry> {
    let flight = this.#inflight.get(route.key);
    if (flight === undefined) {
      flight = this.#fetch(route, pass, declared).finally(() => this.#inflight.delete(route.key));
      this.#inflight.set(route.key, flight);
    }
    return flight;
  }

  /** Records an event no caller waits on; a sink failure is reported as `audit-error` (through the auditor). */
  async #auditBackground(input: AuditRecordInput): Promise<void> {
    await this.#auditor.record(input)?.catch(() => {});
  }

  /** What a handle refreshes through: the client's single-flight, cache, and the answering provider's lease calls. */
  #source(route: Route, schema: StandardSchemaV1 | undefined): CredentialSource<unknown> {
    const secrets = new WeakMap<CacheEntry, Secret<unknown>>();
    let last: CacheEntry | undefined;
    const provider = () => this.#providers.find((p) => p.name === last?.provider);
    const signal = (own: AbortSignal) => AbortSignal.any([own, this.#abort.signal]);
    return {
      ref: route.text,
      subscribe: (onChange) => {
        const set = this.#watchers.get(route.key) ?? new Set();
        set.add(onChange);
        this.#watchers.set(route.key, set);
        const holder = { key: route.key, leaseId: () => last?.resolved.lease?.id, changed: onChange };
        this.#leaseHolders.add(holder);
        return () => {
          this.#leaseHolders.delete(holder);
          set.delete(onChange);
          if (set.size === 0 && this.#watchers.get(route.key) === set) this.#watchers.delete(route.key);
        };
      },
      fetch: async (force, own) => {
        if (own.aborted) throw own.reason;
        const access: Access = { source: 'fetch', pass: undefined, started: NaN };
        const action = force ? 'refresh' : 'resolve';
        let entry: CacheEntry;
        try {
          if (force) {
            if (this.#guard.ready !== undefined) await this.#guard.ready;
            this.#lookup(route, access, undefined);
            entry = await this.#flight(route, access.pass);
          } else {
            entry = await this.#entry(route, access);
          }
        } catch (err) {
          await this.#auditBackground({ ...this.#failureRecord(route.ref, route, access, err), action });
          throw err;
        }
        // Under fail-closed, a credential the sink cannot record is not handed to the handle.
        const record = {
          action: access.source === 'cache' ? 'cache-hit' : action,
          outcome: 'success',
          ref: route.key,
          provider: entry.provider,
          version: entry.resolved.version ?? null,
          latencyMs: this.#now() - access.started,
          ...ruleOf(access.pass),
        } as const;
        await (access.source === 'cache' ? this.#auditor.hit(record) : this.#auditor.record(record));
        last = entry;
        let secret = secrets.get(entry);
        if (secret === undefined) {
          const text = this.#text(route, entry);
          const value = schema === undefined ? text : await checkSchema(route.key, schema, text, route.text);
          secret = new Secret(value, this.#info(route.text, entry.provider, entry.resolved));
          secrets.set(entry, secret);
        }
        const { expiresAt, refreshAfter, lease } = entry.resolved;
        return {
          secret,
          ...(expiresAt === undefined ? {} : { expiresAt: expiresAt.getTime() }),
          ...(refreshAfter === undefined ? {} : { refreshAfter: refreshAfter.getTime() }),
          ...(lease === undefined ? {} : { lease }),
        };
      },
      renew: async (lease, own) => {
        const p = provider();
        if (p?.renew === undefined || last === undefined) throw new ConfigError('the provider cannot renew leases');
        const started = this.#now();
        const record = { action: 'renew', ref: route.key, provider: p.name } as const;
        let next: Lease;
        try {
          next = await p.renew(lease, { ...this.#ctx, signal: signal(own) });
        } catch (err) {
          await this.#auditBackground({ ...record, outcome: 'failure', code: codeOf(err), latencyMs: this.#now() - started });
          throw err;
        }
        const now = this.#now();
        // Under fail-closed, an unrecorded renewal counts as refused: the handle reads a new credential.
        await this.#auditor.record({ ...record, outcome: 'success', latencyMs: now - started });
        last = this.#cache?.set(route.key, p.name, { ...last.resolved, lease: next, expiresAt: new Date(now + next.ttlMs) }, now) ?? last;
        return next;
      },
      revoke: async (lease: Lease) => {
        const p = provider();
        if (p?.revoke === undefined) return;
        const cached = this.#cache?.get(route.key, this.#now());
        if (cached?.resolved.lease?.id === lease.id) this.#cache?.delete(route.key);
        const record = { action: 'revoke', ref: route.key, provider: p.name } as const;
        try {
          await p.revoke(lease, { ...this.#ctx, signal: new AbortController().signal });
        } catch (err) {
          await this.#auditBackground({ ...record, outcome: 'failure', code: codeOf(err) });
          throw err;
        }
        await this.#auditBackground({ ...record, outcome: 'success' });
      },
    };
  }

  /**
   * Approvals (before any provider call), the chain over the candidates the guard left, then the
   * guard's post-fetch checks: a denied value is dropped here, before the cache or the redactor
   * ever sees it.
   */
  async #fetch(route: Route, pass?: GuardPass, declared?: Sensitivity, ask?: (provider: SecretProvider) => Promise<ResolvedSecret>): Promise<CacheEntry> {
    const generation = this.#generations.get(route.key);
    if (this.#guard.ready !== undefined) await this.#guard.ready;
    if (this.#otelGate !== undefined) await this.#otelGate;
    const checked = pass ?? this.#guard.check(route.key, route.plan, declared);
    await this.#guard.approve(route.key, route.plan, checked);
    let chained;
    try {
      chained = await resolveChain(route.ref, route.candidates, this.#ctx, ask);
    } catch (err) {
      throw withSkipped(err, route);
    }
    const { provider, resolved } = chained;
    await this.#guard.verify(route.key, route.plan, checked, provider, resolved, declared);
    // The guard's post-fetch check has refused a credential that arrived expired.
    const now = this.#now();
    if (this.#closed) throw new ConfigError('the secrets client was closed');
    // Every value is known to the redactor before any Secret or cache entry holds it.
    this.redactor.add(resolved.value, { ref: route.key });
    // Changed (rotated, revoked) while this fetch ran: its answer may be the old one, so it is
    // handed to the callers that were already waiting, and not kept for later ones.
    if (this.#cache === undefined) return cacheEntry(provider.name, resolved, now);
    if (this.#generations.get(route.key) !== generation) return this.#cache.entryFor(provider.name, resolved, now);
    return this.#cache.set(route.key, provider.name, resolved, now);
  }

  /** The text a ref names in an entry: its `#field`, or the whole value. */
  #text(route: Route, entry: CacheEntry): string {
    const { value } = entry.resolved;
    if (route.ref.fieldPath !== undefined) return selectField(entry, route.ref.fieldPath, route.key);
    return typeof value === 'string' ? value : decodeUtf8(value, route.key, entry.provider);
  }

  #wrap<T>(value: T, route: Route, entry: CacheEntry): Secret<T> {
    return new Secret(value, this.#info(route.text, entry.provider, entry.resolved));
  }

  /** One object shape for every secret, so a warm get allocates no spread copies. */
  #info(ref: string, provider: string, facts: { version?: string | undefined; expiresAt?: Date | undefined; metadata?: SecretMetadata | undefined }): SecretInfo {
    return {
      ref,
      provider,
      version: facts.version,
      expiresAt: facts.expiresAt,
      metadata: facts.metadata,
      placeholder: this.#placeholder,
      onDerive: this.#derived,
    };
  }

  /** `Secret.map` results are registered like fetched values. */
  readonly #derived = (value: unknown, ref: string | undefined): void => {
    this.redactor.add(value, ref === undefined ? {} : { ref });
  };
}

/** A secret that arrives after its caller gave up is disposed: nobody will ever read it. */
function disposeLate(secret: Secret<unknown>): void {
  secret.dispose();
}

/** The sinks of the `audit` option. */
function sinksOf(audit: SecretsOptions['audit']): readonly AuditSink[] {
  if (audit === undefined || audit === false) return [];
  return isSinkList(audit) ? audit : [audit];
}

function isSinkList(audit: AuditSink | readonly AuditSink[]): audit is readonly AuditSink[] {
  return Array.isArray(audit);
}

/** The audit `rule` and `reason` of a guard pass: the policy rule and the cross-environment rule used. */
const NO_RULE: { rule?: string; reason?: string } = Object.freeze({});

function ruleOf(pass: GuardPass | undefined): { rule?: string; reason?: string } {
  if (pass === undefined || (pass.policyRule === undefined && pass.cross === undefined)) return NO_RULE;
  const rules = [pass.policyRule, pass.cross?.name].filter((r): r is string => r !== undefined);
  return {
    ...(rules.length === 0 ? {} : { rule: rules.join(', ') }),
    ...(pass.cross === undefined ? {} : { reason: `crossEnvironment to ${pass.cross.to}: ${pass.cross.reason}` }),
  };
}

/** A not-found answer says which providers were skipped for their environment binding (never asked). */
function withSkipped(err: unknown, route: Route): unknown {
  if (!(err instanceof SecretNotFoundError) || route.plan.skipped.length === 0) return err;
  return new SecretNotFoundError(
    `${err.message}; providers bound to another environment were skipped, not asked: ${route.plan.skipped.join(', ')}`,
    { ref: route.key, attempts: err.attempts, cause: err, ...(err.provider === undefined ? {} : { provider: err.provider }) },
  );
}

function decodeUtf8(bytes: Uint8Array, ref: string, provider: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SecretFormatError('the secret is binary, not UTF-8 text; use getBytes()', { ref, provider });
  }
}

/** The stable code of an error, for audit records. */
function codeOf(err: unknown): string {
  return isConnectorSecretsError(err) ? err.code : 'PROVIDER_ERROR';
}
