import { AuditWriteError, ConfigError } from '../errors.js';
import type { AuditAction, AuditEvent, AuditHitSummary, AuditOutcome, AuditSink } from './event.js';
import { systemClock, type Clock, type TimerId } from '../handles/clock.js';

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
   * Schedules the summary interval (background work: it never keeps the process alive).
   * @default the system clock
   */
  readonly clock?: Clock;
  /**
   * `'fail-closed'`: when no sink keeps a record, {@link Auditor.record} throws
   * {@link AuditWriteError} and the access is denied. `'warn'`: the access goes on.
   */
  readonly failure: 'fail-closed' | 'warn';
  /** Told of every sink failure (in both modes). */
  readonly onSinkError?: (error: AuditWriteError) => void;
  /** Told of every record before it becomes an event (metrics count here, cheaply). */
  readonly count?: (input: AuditRecordInput) => void;
  /**
   * How cache hits ({@link Auditor.hit}) reach the sinks: each as an event, counted into
   * summaries, or not at all (observers see them in every mode).
   * @default 'each'
   */
  readonly cacheHits?: 'each' | 'summary' | false;
  /**
   * How often the hit summaries are written, in milliseconds of `now`.
   * @default 60_000
   */
  readonly summaryIntervalMs?: number;
  /**
   * Told of each summarised cache hit (its ref), which observers are not: making an event of
   * every hit would cost what summaries save. Anomaly detection counts hits here.
   */
  readonly onSummarisedHit?: (ref: string) => void;
}

/** The cache hits of one (ref, provider, version) since the last summary was written. */
interface HitCount {
  readonly ref: string;
  readonly provider: string | null;
  readonly version: string | null;
  count: number;
  first: number;
  last: number;
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
  readonly #cacheHits: 'each' | 'summary' | false;
  /** Sinks that take summaries, when hits are summarised; the others are given each hit. */
  readonly #summarySinks: readonly AuditSink[];
  readonly #eachSinks: readonly AuditSink[];
  readonly #summaryIntervalMs: number;
  readonly #onSummarisedHit: ((ref: string) => void) | undefined;
  readonly #hits = new Map<string, HitCount>();
  /** The count of the last hit (valid while #hits is not empty: a flush clears both). */
  #lastHit: HitCount | undefined;
  /** When the current summary interval began (the clock's time of its first hit). */
  #intervalStart = NaN;
  #summaryTimer: TimerId | undefined;
  readonly #clock: Clock;
  /** Under fail-closed: no summary sink could write the last summaries, so hits are refused. */
  #summaryFailed: AuditWriteError | undefined;
  /** Summary writes in flight, which close() waits for. */
  readonly #summaryWrites = new Set<Promise<unknown>>();
  #seq = 0;

  constructor(options: AuditorOptions) {
    this.#sinks = [...options.sinks];
    this.#identity = options.identity ?? null;
    this.#environment = options.environment;
    this.#now = options.now;
    this.#clock = options.clock ?? systemClock;
    this.#failClosed = options.failure === 'fail-closed';
    this.#onSinkError = options.onSinkError;
    this.#count = options.count;
    this.#cacheHits = options.cacheHits ?? 'each';
    const summarising = this.#cacheHits === 'summary';
    this.#summarySinks = summarising ? this.#sinks.filter((s) => typeof s.writeSummary === 'function') : [];
    this.#eachSinks = summarising ? this.#sinks.filter((s) => typeof s.writeSummary !== 'function') : this.#sinks;
    this.#summaryIntervalMs = options.summaryIntervalMs ?? 60_000;
    this.#onSummarisedHit = options.onSummarisedHit;
    if (!(this.#summaryIntervalMs > 0 && Number.isFinite(this.#summaryIntervalMs))) throw new ConfigError('summaryIntervalMs must be a positive number');
  }

  /** True when records become events (a sink or an observer wants them); else only `count` sees them. */
  get eventful(): boolean {
    return this.#sinks.length > 0 || this.#observers.size > 0;
  }

  /**
   * Adds an observer, called synchronously with every event (a throw is ignored); returns a
   * remover. Summarised cache hits are not events: `onSummarisedHit` is told of them.
   */
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
    return this.#record(input, observeOnly ? [] : this.#sinks);
  }

  /** `new Date(now).toISOString()`, reused while the clock stays in one millisecond (busy logs write many records per ms). */
  #isoNow(): string {
    const now = this.#now();
    if (now !== this.#lastMs) {
      this.#lastMs = now;
      this.#lastIso = new Date(now).toISOString();
    }
    return this.#lastIso;
  }
  #lastMs = NaN;
  #lastIso = '';

  #record(input: AuditRecordInput, sinks: readonly AuditSink[]): Promise<void> | undefined {
    this.#count?.(input);
    const toSinks = sinks.length > 0;
    if (!toSinks && this.#observers.size === 0) {
      this.#seq += 1;
      return undefined;
    }
    const event: { -readonly [K in keyof AuditEvent]: AuditEvent[K] } = {
      ts: this.#isoNow(),
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
    };
    if (input.rule !== undefined) event.rule = input.rule;
    if (input.reason !== undefined) event.reason = input.reason;
    Object.freeze(event);
    for (const fn of this.#observers) {
      try {
        fn(event);
      } catch {
        // An observer never breaks the access it observes.
      }
    }
    if (!toSinks) return undefined;
    return sinks.length === 1 ? this.#writeOne(event, sinks[0]!) : this.#write(event, sinks);
  }

  /** One sink (the common case): its promise with one failure handler, no settled-results array per record. */
  #writeOne(event: AuditEvent, sink: AuditSink): Promise<void> {
    let written: void | Promise<void>;
    try {
      written = sink.write(event);
    } catch (err) {
      written = Promise.reject(err);
    }
    return Promise.resolve(written).then(undefined, (err: unknown) => {
      this.#onSinkError?.(asAuditError(err, event));
      if (this.#failClosed) throw this.#denied(event, err);
    });
  }

  /**
   * Records one cache hit, as `cacheHits` says: `'each'` as {@link Auditor.record}; `false` for
   * observers only; `'summary'` counts it (per ref, provider and version) for the next summary
   * and tells `count` and `onSummarisedHit`; sinks that cannot take summaries (and observers,
   * then) are given it as an event. Returns what the caller must wait for, or `undefined`.
   *
   * @throws {@link AuditWriteError} (through the promise) under `'fail-closed'` once no sink
   * could write the last summaries.
   */
  hit(input: AuditRecordInput & { readonly ref: string }): Promise<void> | undefined {
    if (this.#cacheHits !== 'summary') return this.record(input, this.#cacheHits === false);
    if (this.#summaryFailed !== undefined) return Promise.reject(this.#summaryFailed);
    if (this.#summarySinks.length === 0) return this.#record(input, this.#sinks);
    const now = this.#now();
    if (now - this.#intervalStart >= this.#summaryIntervalMs) void this.flushSummaries();
    // Warm traffic hits the same ref again and again: skip building its key.
    const lastHit = this.#lastHit;
    const same = lastHit !== undefined && lastHit.ref === input.ref && lastHit.provider === (input.provider ?? null) && lastHit.version === (input.version ?? null);
    const known = same && this.#hits.size > 0 ? lastHit : this.#hits.get(`${input.ref}\u0000${input.provider ?? ''}\u0000${input.version ?? ''}`);
    if (known !== undefined) {
      this.#lastHit = known;
      known.count += 1;
      known.last = now;
    } else {
      if (this.#hits.size === 0) this.#startInterval(now);
      const counted = { ref: input.ref, provider: input.provider ?? null, version: input.version ?? null, count: 1, first: now, last: now };
      this.#hits.set(`${input.ref}\u0000${input.provider ?? ''}\u0000${input.version ?? ''}`, counted);
      this.#lastHit = counted;
    }
    // Sinks that take no summaries get the event (and observers see it).
    if (this.#eachSinks.length > 0) return this.#record(input, this.#eachSinks);
    this.#seq += 1;
    this.#count?.(input);
    this.#onSummarisedHit?.(input.ref);
    return undefined;
  }

  #startInterval(now: number): void {
    this.#intervalStart = now;
    // Background work: a summary nobody waits for must not keep the process alive; close() writes the last one.
    // The next hit after a flush starts the next interval, so one timer per interval suffices.
    this.#summaryTimer ??= this.#clock.setTimeout(
      () => {
        this.#summaryTimer = undefined;
        void this.flushSummaries();
      },
      this.#summaryIntervalMs,
      { background: true },
    );
  }

  /**
   * Writes the summaries counted so far to the sinks that take them, and starts a new interval.
   * A sink failure is reported through `onSinkError`; under `'fail-closed'`, when no sink kept
   * them, later hits are refused.
   */
  async flushSummaries(): Promise<void> {
    if (this.#summaryTimer !== undefined) this.#clock.clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
    if (this.#hits.size === 0) return;
    const counted = [...this.#hits.values()];
    this.#hits.clear();
    this.#lastHit = undefined;
    this.#intervalStart = NaN;
    const summaries: AuditHitSummary[] = counted.map((h) => ({
      identity: this.#identity,
      environment: this.#environment,
      ref: h.ref,
      provider: h.provider,
      version: h.version,
      count: h.count,
      first: new Date(h.first).toISOString(),
      last: new Date(h.last).toISOString(),
    }));
    // Queued together (and in order) in each sink, so a close that follows finds them all queued.
    const written = Promise.allSettled(this.#summarySinks.map(async (sink) => Promise.all(summaries.map((summary) => sink.writeSummary!(summary)))));
    this.#summaryWrites.add(written);
    const results = await written;
    this.#summaryWrites.delete(written);
    let kept = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') kept += 1;
      else this.#onSinkError?.(asAuditError(r.reason, undefined, 'to record cache-hit summaries'));
    }
    if (kept === 0 && this.#failClosed) {
      this.#summaryFailed ??= new AuditWriteError("no audit sink could record the cache-hit summaries, so cache hits are denied (auditFailure: 'fail-closed')", {
        cause: results.find((r) => r.status === 'rejected')?.reason,
      });
    }
  }

  async #write(event: AuditEvent, sinks: readonly AuditSink[]): Promise<void> {
    const results = await Promise.allSettled(sinks.map(async (sink) => sink.write(event)));
    let kept = 0;
    let lastError: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') kept += 1;
      else {
        lastError = r.reason;
        this.#onSinkError?.(asAuditError(r.reason, event));
      }
    }
    if (kept === 0 && this.#failClosed) throw this.#denied(event, lastError);
  }

  #denied(event: AuditEvent, cause: unknown): AuditWriteError {
    return new AuditWriteError(`no audit sink could record the ${event.action} of ${event.ref ?? 'an invalid ref'}, so it was denied (auditFailure: 'fail-closed')`, {
      ...(event.ref === null ? {} : { ref: event.ref }),
      cause,
    });
  }

  /** Writes the last summaries, then closes every sink (the file sink writes its checkpoint). */
  async close(): Promise<void> {
    await this.flushSummaries();
    await Promise.all(this.#summaryWrites);
    const results = await Promise.allSettled(this.#sinks.map(async (sink) => sink.close?.()));
    for (const r of results) if (r.status === 'rejected') this.#onSinkError?.(asAuditError(r.reason, undefined));
  }
}

function asAuditError(err: unknown, event: AuditEvent | undefined, what = 'to close'): AuditWriteError {
  if (err instanceof AuditWriteError) return err;
  return new AuditWriteError(`an audit sink failed${event === undefined ? ` ${what}` : ` to record seq ${event.seq}`}`, { cause: err });
}
