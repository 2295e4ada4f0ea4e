/**
 * What an audit record is about: a get answered by a provider (`resolve`) or by the cache
 * (`cache-hit`), a credential handle's `refresh`, `renew`, `rotate` or `revoke`, an `anomaly`, or an
 * incident step: an identity's `quarantine` or its `lift`.
 */
export type AuditAction = 'resolve' | 'cache-hit' | 'refresh' | 'renew' | 'rotate' | 'revoke' | 'anomaly' | 'quarantine' | 'lift' | 'describe' | 'policy-update';

/** How it ended: served, denied by a guard (environment, policy, expiry, provider denial), failed, or an alert. */
export type AuditOutcome = 'success' | 'denied' | 'failure' | 'alert';

/**
 * One audit record. It names who read which ref where, how it ended and how long it took —
 * never a value, nor an unkeyed hash of one.
 *
 * @example
 * ```ts
 * const event: AuditEvent = {
 *   ts: '2026-01-01T02:00:00.000Z', seq: 1, identity: 'orders-sync', environment: 'prod',
 *   action: 'resolve', ref: 'secret://orders-db/password', provider: 'vault', outcome: 'success',
 *   code: null, latencyMs: 12, version: '3',
 * };
 * ```
 */
export interface AuditEvent {
  /** When, as an ISO 8601 UTC timestamp from the client's clock. */
  readonly ts: string;
  /** The client's sequence number of the record, from 1. */
  readonly seq: number;
  /** The connector identity, or null. */
  readonly identity: string | null;
  /** The environment of the process. */
  readonly environment: string;
  /** What happened: a resolve, a cache hit, a refresh, renewal, rotation, revocation or anomaly. */
  readonly action: AuditAction;
  /** The canonical ref (without `#field`), or null when the input was not a valid ref (it is never echoed: it may be a pasted secret). */
  readonly ref: string | null;
  /** The provider that answered or failed, or null. */
  readonly provider: string | null;
  /** How it ended: success, denied, failure or alert. */
  readonly outcome: AuditOutcome;
  /** The error code of a denial or failure, the anomaly kind of an alert; null on success. */
  readonly code: string | null;
  /** How long the access took, in milliseconds of the client's clock. */
  readonly latencyMs: number;
  /** The provider's version of the secret, or null. */
  readonly version: string | null;
  /** The policy or cross-environment rule that decided, when one did. */
  readonly rule?: string;
  /** Why, in words: the error message of a denial or failure, a rule's reason, an anomaly's explanation. Never a value. */
  readonly reason?: string;
}

/**
 * Cache hits of one ref, counted instead of written one by one (`auditCacheHits: 'summary'`, the
 * default): every hit of (identity, ref, provider, version) between `first` and `last`. The client
 * writes one per key and interval, and on close.
 *
 * @example
 * ```ts
 * const summary: AuditHitSummary = {
 *   identity: 'orders-sync', environment: 'prod', ref: 'secret://orders-db/password', provider: 'vault',
 *   version: '3', count: 5120, first: '2026-01-01T02:00:00.004Z', last: '2026-01-01T02:00:59.998Z',
 * };
 * ```
 */
export interface AuditHitSummary {
  /** The connector identity, or null. */
  readonly identity: string | null;
  /** The environment of the process. */
  readonly environment: string;
  /** The canonical ref (without `#field`). */
  readonly ref: string;
  /** The provider whose cached answer was served, or null. */
  readonly provider: string | null;
  /** The provider's version of the secret, or null. */
  readonly version: string | null;
  /** How many cache hits (at least 1). */
  readonly count: number;
  /** The first hit, as an ISO 8601 UTC timestamp from the client's clock. */
  readonly first: string;
  /** The last hit, as an ISO 8601 UTC timestamp from the client's clock. */
  readonly last: string;
}

/**
 * Where audit records go. `write` may be synchronous or return a promise; a throw or rejection
 * means the record was not kept (see the client's `auditFailure`). `close` flushes and, for the
 * file sink, writes the signed checkpoint.
 *
 * @example
 * ```ts
 * const sink: AuditSink = { write: (e) => void queue.push(JSON.stringify(e)) };
 * ```
 */
export interface AuditSink {
  /** Records one event. */
  write(event: AuditEvent): void | Promise<void>;
  /**
   * Records one cache-hit summary. A sink without it is given every cache hit as an event
   * instead, whatever `auditCacheHits` says, so nothing it would have kept is lost.
   */
  writeSummary?(summary: AuditHitSummary): void | Promise<void>;
  /** Flushes and releases the sink; called by `secrets.close()`. */
  close?(): Promise<void>;
}
