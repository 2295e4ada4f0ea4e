import type { AuditRecordInput } from '../audit/auditor.js';
import { Histogram, type HistogramSnapshot } from './histogram.js';
import type { OtelBridge } from './otel.js';

/**
 * What `secrets.metrics()` returns: counters since the client was created, and latency
 * histograms. No refs, no values: only counts, codes and provider names.
 *
 * @example
 * ```ts
 * const m = secrets.metrics();
 * log.info({ accesses: m.accesses, denied: m.denials.total, hitRate: m.cacheHits / Math.max(1, m.accesses) });
 * ```
 */
export interface SecretsMetrics {
  /** Every get (served, denied or failed), from a provider or the cache. */
  readonly accesses: number;
  /** Gets served by a provider fetch. */
  readonly fetches: number;
  /** Gets served from the cache (fresh or stale). */
  readonly cacheHits: number;
  /** Denied accesses, in total and by error code (`ENVIRONMENT_MISMATCH`, `POLICY_DENIED`, …). */
  readonly denials: CountsByCode;
  /** Failed accesses, in total and by error code. */
  readonly failures: CountsByCode;
  /** Failures raised by providers (`PROVIDER_ERROR`, `PROVIDER_UNAVAILABLE`), by provider name. */
  readonly providerErrors: {
    /** All provider failures. */
    readonly total: number;
    /** Per provider name. */
    readonly byProvider: Readonly<Record<string, number>>;
  };
  /** Credential handle refreshes (re-fetches) and lease renewals. */
  readonly refreshes: number;
  /** Rotations. */
  readonly rotations: number;
  /** Lease revocations. */
  readonly revocations: number;
  /** Anomaly alerts raised. */
  readonly anomalies: number;
  /** Audit records that some sink failed to keep. */
  readonly auditFailures: number;
  /** Latency of provider fetches and of cache-served gets, in milliseconds of the client's clock. */
  readonly latency: {
    /** Accesses that asked a provider. */
    readonly fetch: HistogramSnapshot;
    /** Accesses served from the cache. */
    readonly cached: HistogramSnapshot;
  };
}

/** A count in total and per error code. */
export interface CountsByCode {
  /** All of them. */
  readonly total: number;
  /** Per stable error code. */
  readonly byCode: Readonly<Record<string, number>>;
}

const PROVIDER_CODES = new Set(['PROVIDER_ERROR', 'PROVIDER_UNAVAILABLE']);

/** @internal Counts audit events into {@link SecretsMetrics}, and forwards them to OpenTelemetry when it is loaded. */
export class MetricsRecorder {
  #accesses = 0;
  #fetches = 0;
  #cacheHits = 0;
  #refreshes = 0;
  #rotations = 0;
  #revocations = 0;
  #anomalies = 0;
  #auditFailures = 0;
  readonly #denials = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #providerErrors = new Map<string, number>();
  readonly #fetch = new Histogram();
  readonly #cached = new Histogram();
  #otel: OtelBridge | undefined;

  /** Sets the OpenTelemetry bridge once `@opentelemetry/api` has loaded. */
  attach(bridge: OtelBridge): void {
    this.#otel = bridge;
  }

  /** Counts one audit record. */
  observe(event: AuditRecordInput): void {
    switch (event.action) {
      case 'resolve':
      case 'cache-hit': {
        this.#accesses += 1;
        const cached = event.action === 'cache-hit';
        if (event.outcome === 'success') {
          if (cached) this.#cacheHits += 1;
          else this.#fetches += 1;
          (cached ? this.#cached : this.#fetch).observe(event.latencyMs ?? 0);
        }
        break;
      }
      case 'refresh':
      case 'renew':
        if (event.outcome === 'success') this.#refreshes += 1;
        break;
      case 'rotate':
        if (event.outcome === 'success') this.#rotations += 1;
        break;
      case 'revoke':
        if (event.outcome === 'success') this.#revocations += 1;
        break;
      case 'anomaly':
        this.#anomalies += 1;
        break;
    }
    const code = event.code ?? 'UNKNOWN';
    if (event.outcome === 'denied') bump(this.#denials, code);
    else if (event.outcome === 'failure') {
      bump(this.#failures, code);
      if (PROVIDER_CODES.has(code)) bump(this.#providerErrors, event.provider ?? '(none)');
    }
    this.#otel?.record(event);
  }

  /** Counts a get served (the fast path of a client without audit sinks or observers). */
  served(cached: boolean, latencyMs: number): void {
    if (this.#otel !== undefined) {
      this.observe({ action: cached ? 'cache-hit' : 'resolve', outcome: 'success', latencyMs });
      return;
    }
    this.#accesses += 1;
    if (cached) {
      this.#cacheHits += 1;
      this.#cached.observe(latencyMs);
    } else {
      this.#fetches += 1;
      this.#fetch.observe(latencyMs);
    }
  }

  /** Counts a record that a sink failed to keep. */
  auditFailed(): void {
    this.#auditFailures += 1;
    this.#otel?.auditFailed();
  }

  /** The counters and histograms so far (what `secrets.metrics()` returns). */
  snapshot(): SecretsMetrics {
    return {
      accesses: this.#accesses,
      fetches: this.#fetches,
      cacheHits: this.#cacheHits,
      denials: tally(this.#denials),
      failures: tally(this.#failures),
      providerErrors: { total: sum(this.#providerErrors), byProvider: Object.fromEntries(this.#providerErrors) },
      refreshes: this.#refreshes,
      rotations: this.#rotations,
      revocations: this.#revocations,
      anomalies: this.#anomalies,
      auditFailures: this.#auditFailures,
      latency: { fetch: this.#fetch.snapshot(), cached: this.#cached.snapshot() },
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function sum(map: Map<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}

function tally(map: Map<string, number>) {
  return { total: sum(map), byCode: Object.fromEntries(map) };
}
