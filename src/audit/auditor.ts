import { AuditWriteError } from '../errors.js';
import type { AuditAction, AuditEvent, AuditOutcome, AuditSink } from './event.js';

/**
 * What a stage reports to the {@link Auditor}; it fills in `ts`, `seq`, `identity` and
 * `environment`. Credential handles report `refresh`, `renew`, `rotate` and `revoke` this way.
 *
 * @example
 * ```ts
 * await auditor.record({ action: 'renew', ref: 'vault://database/creds/etl', provider: 'vault', outcome: 'success', latencyMs: 8 });
 * ```
 */
export interface AuditRecordInput {
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  /** The canonical ref (without `#field`). */
  readonly ref?: string | null;
  readonly provider?: string | null;
  /** The error code of a denial or failure; the anomaly kind of an alert. */
  readonly code?: string | null;
  /** @default 0 */
  readonly latencyMs?: number;
  readonly version?: string | null;
  readonly rule?: string | undefined;
  /** Never a value: an error message or a rule's reason. */
  readonly reason?: string | undefined;
}

/**
 * Options of an {@link Auditor}.
 */
export interface AuditorOptions {
  readonly sinks: readonly AuditSink[];
  readonly identity: string | undefined;
  readonly environment: string;
  /** The clock, in epoch milliseconds. */
  readonly now: () => number;
  /**
   * `'fail-closed'`: when no sink keeps a record, {@link Auditor.record} throws
   * {@link AuditWriteError} and the access is denied. `'warn'`: the access goes on.
   */
  readonly failure: 'fail-closed' | 'warn';
  /** Told of every sink failure (in both modes). */
  readonly onSinkError?: (error: AuditWriteError) => void;
  /** Told of every record before it becomes an event (metrics count here, cheaply). */
  readonly count?: (input: AuditRecordInput) => void;
}

/**
 * Numbers and stamps audit records, tells its observers (metrics, anomaly detection) and writes
 * to every sink. One per client; credential handles record through the client's auditor.
 *
 * @example
 * ```ts
 * const auditor = new Auditor({ sinks: [sink], identity: 'orders-sync', environment: 'prod', now: Date.now, failure: 'fail-closed' });
 * await auditor.record({ action: 'rotate', ref, provider: 'vault', outcome: 'success', version: '4' });
 * ```
 */
export class Auditor {
  readonly #sinks: readonly AuditSink[];
  readonly #identity: string | null;
  readonly #environment: string;
  readonly #now: () => number;
  readonly #failClosed: boolean;
  readonly #onSinkError: ((error: AuditWriteError) => void) | undefined;
  readonly #count: ((input: AuditRecordInput) => void) | undefined;
  readonly #observers = new Set<(event: AuditEvent) => void>();
  #seq = 0;

  constructor(options: AuditorOptions) {
    this.#sinks = [...options.sinks];
    this.#identity = options.identity ?? null;
    this.#environment = options.environment;
    this.#now = options.now;
    this.#failClosed = options.failure === 'fail-closed';
    this.#onSinkError = options.onSinkError;
    this.#count = options.count;
  }

  /** True when records become events (a sink or an observer wants them); else only `count` sees them. */
  get eventful(): boolean {
    return this.#sinks.length > 0 || this.#observers.size > 0;
  }

  /** Adds an observer, called synchronously with every event (a throw is ignored); returns a remover. */
  observe(fn: (event: AuditEvent) => void): () => void {
    this.#observers.add(fn);
    return () => this.#observers.delete(fn);
  }

  /**
   * Records one event. Returns `undefined` when there is nothing to wait for (no sink, or
   * `observeOnly`: observers see the event, sinks do not), else a promise that settles once every
   * sink has answered.
   *
   * @throws {@link AuditWriteError} (through the promise) when `failure` is `'fail-closed'` and no
   * sink kept the record.
   */
  record(input: AuditRecordInput, observeOnly = false): Promise<void> | undefined {
    this.#count?.(input);
    const toSinks = this.#sinks.length > 0 && !observeOnly;
    if (!toSinks && this.#observers.size === 0) {
      this.#seq += 1;
      return undefined;
    }
    const event: AuditEvent = {
      ts: new Date(this.#now()).toISOString(),
      seq: ++this.#seq,
      identity: this.#identity,
      environment: this.#environment,
      action: input.action,
      ref: input.ref ?? null,
      provider: input.provider ?? null,
      outcome: input.outcome,
      code: input.code ?? null,
      latencyMs: Math.max(0, input.latencyMs ?? 0),
      version: input.version ?? null,
      ...(input.rule === undefined ? {} : { rule: input.rule }),
      ...(input.reason === undefined ? {} : { reason: input.reason }),
    };
    Object.freeze(event);
    for (const fn of this.#observers) {
      try {
        fn(event);
      } catch {
        // An observer never breaks the access it observes.
      }
    }
    return toSinks ? this.#write(event) : undefined;
  }

  async #write(event: AuditEvent): Promise<void> {
    const results = await Promise.allSettled(this.#sinks.map(async (sink) => sink.write(event)));
    let kept = 0;
    let lastError: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') kept += 1;
      else {
        lastError = r.reason;
        this.#onSinkError?.(asAuditError(r.reason, event));
      }
    }
    if (kept === 0 && this.#failClosed) {
      throw new AuditWriteError(`no audit sink could record the ${event.action} of ${event.ref ?? 'an invalid ref'}, so it was denied (auditFailure: 'fail-closed')`, {
        ...(event.ref === null ? {} : { ref: event.ref }),
        cause: lastError,
      });
    }
  }

  /** Closes every sink (the file sink writes its checkpoint). */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.#sinks.map(async (sink) => sink.close?.()));
    for (const r of results) if (r.status === 'rejected') this.#onSinkError?.(asAuditError(r.reason, undefined));
  }
}

function asAuditError(err: unknown, event: AuditEvent | undefined): AuditWriteError {
  if (err instanceof AuditWriteError) return err;
  return new AuditWriteError(`an audit sink failed${event === undefined ? ' to close' : ` to record seq ${event.seq}`}`, { cause: err });
}
