import type { Clock } from './handles/clock.js';
import type { SecretRef } from './ref/types.js';

/**
 * Non-secret facts a provider reports about a secret. Guards and audit read them.
 *
 * @example
 * ```ts
 * const meta: SecretMetadata = { environment: 'prod', owner: 'data-platform', sensitivity: 'critical' };
 * ```
 */
export interface SecretMetadata {
  /** The environment tag of the secret (`dev`, `staging`, `prod`, …). */
  readonly environment?: string;
  /** The team or person that owns the secret. */
  readonly owner?: string;
  /** Why the secret exists. */
  readonly purpose?: string;
  /** How much damage a leak would do. */
  readonly sensitivity?: Sensitivity;
  /** How often the secret should be rotated, e.g. `'30d'`. */
  readonly rotation?: string;
  /** Any other non-secret labels. */
  readonly [key: string]: string | undefined;
}

/** Sensitivity levels, from least to most sensitive. */
export type Sensitivity = 'low' | 'medium' | 'high' | 'critical';

/**
 * A lease on a dynamic credential (for example a Vault database user).
 *
 * @example
 * ```ts
 * const lease: Lease = { id: 'database/creds/etl/abc', ttlMs: 3_600_000, renewable: true };
 * ```
 */
export interface Lease {
  /** The provider's lease identifier. */
  readonly id: string;
  /** How long the lease lives from issue or last renewal, in milliseconds. */
  readonly ttlMs: number;
  /** Whether the provider can extend it. */
  readonly renewable: boolean;
  /** The longest the lease may live in total, in milliseconds, when the provider says. */
  readonly maxTtlMs?: number;
}

/**
 * What a provider returns for one ref. JSON secrets arrive as a JSON string; the client
 * applies the ref's `#field`, so providers return the whole secret.
 *
 * @example
 * ```ts
 * const resolved: ResolvedSecret = { value: '{"username":"etl","password":"…"}', version: '3' };
 * ```
 */
export interface ResolvedSecret {
  /** The secret value: text, or bytes for binary secrets. */
  readonly value: string | Uint8Array;
  /** The provider's version identifier. */
  readonly version?: string;
  /** When the credential stops working. */
  readonly expiresAt?: Date;
  /** When the provider suggests fetching it again. */
  readonly refreshAfter?: Date;
  /** The lease, for dynamic credentials. */
  readonly lease?: Lease;
  /** Non-secret facts about the secret. */
  readonly metadata?: SecretMetadata;
}

/**
 * What a provider knows about a secret without reading its value: what `describe` returns.
 * Every field is optional; a provider fills in what its backend keeps. Never a value, nor
 * anything derived from one (no hash, no length).
 *
 * @example
 * ```ts
 * const facts: SecretDescription = { version: '3', updatedAt: new Date('2026-11-02T09:00:00Z'), metadata: { owner: 'data-platform' } };
 * ```
 */
export interface SecretDescription {
  /** The provider's current version identifier. */
  readonly version?: string;
  /** When the secret was first created. */
  readonly createdAt?: Date;
  /** When the secret (or its current version) was last written. */
  readonly updatedAt?: Date;
  /** When the secret was last rotated, when the backend tracks rotations apart from writes. */
  readonly lastRotatedAt?: Date;
  /** When the backend will next rotate it, when it rotates on a schedule. */
  readonly nextRotationAt?: Date;
  /** When the credential stops working. */
  readonly expiresAt?: Date;
  /** Tags, labels and custom metadata (owner, environment, rotation, …). */
  readonly metadata?: SecretMetadata;
}

/**
 * What the client tells a provider about the call it makes.
 *
 * @example
 * ```ts
 * async resolve(ref, ctx) {
 *   const res = await fetch(url, { signal: ctx.signal });
 *   // …
 * }
 * ```
 */
export interface ResolveContext {
  /** Aborted when the client closes or the caller gives up. */
  readonly signal: AbortSignal;
  /** The process environment variables, as the client was given them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The environment tag of the process (`dev`, `prod`, …). */
  readonly environment: string;
  /** The connector identity, when the client was given one. */
  readonly identity: string | undefined;
  /** The client's clock, in epoch milliseconds (the same as `clock.now`). */
  readonly now: () => number;
  /**
   * The client's clock and timers (`createSecrets({ clock })`, or the system clock). A provider
   * that waits (retry pauses, timeouts) should use it, through `sleep(ms, { clock })`, so a test's
   * fake clock controls those waits too. Always set by the client; optional so that contexts
   * built by hand (in a provider's own tests) need not make one.
   * @default the system clock
   */
  readonly clock?: Clock;
}

/**
 * A source of secrets. Pass any object of this shape to `createSecrets({ providers })`.
 *
 * Errors steer the chain: throw `SecretNotFoundError` or `ProviderUnavailableError` to let the
 * next provider try; any other error stops the walk.
 *
 * @example
 * ```ts
 * const fromMap: SecretProvider = {
 *   name: 'map',
 *   schemes: ['map'],
 *   async resolve(ref) {
 *     const value = table.get(ref.path);
 *     if (value === undefined) throw new SecretNotFoundError('no entry', { ref: String(ref), provider: 'map' });
 *     return { value };
 *   },
 * };
 * ```
 */
export interface SecretProvider {
  /** A unique name, shown in errors, `Secret.provider` and audit records. */
  readonly name: string;
  /** Ref schemes it serves, e.g. `['vault']`; `'*'` serves every scheme. */
  readonly schemes: readonly string[];
  /** Whether it also resolves logical `secret://` refs. */
  readonly logical?: boolean;
  /** The environment it is bound to, if any. */
  readonly environment?: string;
  /** Ref params it accepts besides the reserved `version`, `env` and `stage`. */
  readonly params?: readonly string[];
  /**
   * The other spellings (canonical `scheme://path`, no params) under which this provider reads
   * the same secret as `ref`: `fromEnv` reads `secret://orders-db/password` and
   * `env://ORDERS_DB_PASSWORD` as one variable. Deny globs of a policy cover every alias, so a
   * secret denied under one spelling is not served under another.
   * @default for a logical provider, `secret://p` and `<scheme>://p` of each of its schemes are
   * one secret; for other providers, none
   * @example
   * ```ts
   * aliases: (ref) => (ref.logical ? [`map://${ref.path}`] : [`secret://${ref.path}`]),
   * ```
   */
  aliases?(ref: SecretRef): readonly string[];
  /** Fetches the secret a ref names. */
  resolve(ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret>;
  /**
   * Fetches several secrets in as few round trips as the backend allows (AWS
   * `BatchGetSecretValue`, …). Optional: the client calls it for the cold refs of one `getMany`
   * or `load` that this provider is first in line for (at least two, with no approval pending),
   * and calls `resolve` per ref when it is absent or throws.
   *
   * Answers one settled result per ref, in the order of `refs`: a rejection steers the chain
   * exactly as an error thrown by `resolve` would (the next provider is tried on
   * `SECRET_NOT_FOUND` / `PROVIDER_UNAVAILABLE`); a missing entry is asked of `resolve`.
   *
   * @example
   * ```ts
   * async resolveMany(refs, ctx) {
   *   const rows = await db.query('select name, value from secrets where name = any($1)', [refs.map((r) => r.path)]);
   *   return refs.map((r) => {
   *     const row = rows.find((x) => x.name === r.path);
   *     return row ? { status: 'fulfilled', value: { value: row.value } } : { status: 'rejected', reason: new SecretNotFoundError('no row', { ref: String(r) }) };
   *   });
   * }
   * ```
   */
  resolveMany?(refs: readonly SecretRef[], ctx: ResolveContext): Promise<readonly PromiseSettledResult<ResolvedSecret>[]>;
  /**
   * Reports what the provider knows about a secret without reading its value (version, dates,
   * tags). Optional, but every provider that can answer it should: `secrets.describe` and the
   * `inventory` and `doctor` commands use it. Errors steer the chain as for `resolve`: throw
   * `SecretNotFoundError` when the secret does not exist. Must never fetch the value when the
   * backend offers a metadata call (Vault KV v2 `metadata/`, AWS `DescribeSecret`, …).
   * @example
   * ```ts
   * async describe(ref) {
   *   const row = await db.query('select version, updated_at from secrets where name = $1', [ref.path]);
   *   if (row === undefined) throw new SecretNotFoundError('no row', { ref: String(ref), provider: 'db' });
   *   return { version: String(row.version), updatedAt: row.updated_at };
   * }
   * ```
   */
  describe?(ref: SecretRef, ctx: ResolveContext): Promise<SecretDescription>;
  /** Extends a lease. */
  renew?(lease: Lease, ctx: ResolveContext): Promise<Lease>;
  /** Ends a lease early. */
  revoke?(lease: Lease, ctx: ResolveContext): Promise<void>;
  /** Writes a new version of a secret. */
  rotate?(ref: SecretRef, value: string, ctx: ResolveContext): Promise<ResolvedSecret>;
  /**
   * Tells the client when a value changed outside it (a rotation event), so cached copies are
   * dropped and handles on that ref read it again at once instead of after their `ttlMs`.
   * `onChange` gets the canonical ref without `#field`; the returned function unsubscribes
   * (called when the client closes).
   * @example
   * ```ts
   * watch(onChange) { bus.on('rotated', onChange); return () => bus.off('rotated', onChange); }
   * ```
   */
  watch?(onChange: (ref: string) => void): () => void;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}
