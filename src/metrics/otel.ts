import type { AuditRecordInput } from '../audit/auditor.js';
import { ConfigError } from '../errors.js';
import { peerLoadError } from '../peer.js';

// The few shapes of @opentelemetry/api used here, written out so that the package stays an
// optional peer dependency: nothing imports its types, and it is loaded only by loadOpenTelemetry().
type Attributes = Record<string, string>;
interface Counter {
  add(value: number, attributes?: Attributes): void;
}
interface HistogramInstrument {
  record(value: number, attributes?: Attributes): void;
}
interface Meter {
  createCounter(name: string, options?: { description?: string; unit?: string }): Counter;
  createHistogram(name: string, options?: { description?: string; unit?: string }): HistogramInstrument;
}
interface OtelApi {
  metrics: { getMeter(name: string, version?: string): Meter };
  /** Returns the API's no-op meter (the one every meter is while no SDK is registered). */
  createNoopMeter?: () => Meter;
}

/** @internal Forwards audit events to OpenTelemetry instruments. */
export interface OtelBridge {
  record(event: AuditRecordInput): void;
  auditFailed(): void;
}

let loading: Promise<OtelApi> | undefined;

/**
 * @internal Loads `@opentelemetry/api` once per process, when a client first asks.
 *
 * @throws {@link ConfigError} naming the package when it is not installed or does not load; the
 *   client ignores this under the default auto-detection and fails its accesses with it under
 *   `openTelemetry: true`.
 */
export function loadOpenTelemetry(): Promise<OtelApi> {
  loading ??= (async () => {
    let api: Partial<OtelApi> & { default?: Partial<OtelApi> };
    try {
      // A literal specifier, so that bundlers include the package when the consumer has it.
      api = (await import('@opentelemetry/api')) as Partial<OtelApi> & { default?: Partial<OtelApi> };
    } catch (err) {
      throw peerLoadError('@opentelemetry/api', 'OpenTelemetry metrics', err);
    }
    const metrics = api.metrics ?? api.default?.metrics;
    const createNoopMeter = api.createNoopMeter ?? api.default?.createNoopMeter;
    if (metrics === undefined) throw new ConfigError('OpenTelemetry metrics need @opentelemetry/api >= 1.4: the installed package has no metrics API');
    return createNoopMeter === undefined ? { metrics } : { metrics, createNoopMeter };
  })();
  return loading;
}

/**
 * @internal Creates the instruments of one client on the global meter provider; `undefined` while
 * no OpenTelemetry SDK is registered (the meter would be the no-op one), so nothing is spent on it.
 * Register the SDK before creating the client. Attributes are low-cardinality only (action,
 * outcome, code, provider, environment): never refs, never values.
 */
export function createOtelBridge(api: OtelApi, environment: string): OtelBridge | undefined {
  const meter = api.metrics.getMeter('connector-secrets');
  if (api.createNoopMeter !== undefined && meter === api.createNoopMeter()) return undefined;
  const counter = (name: string, description: string) => meter.createCounter(`connector_secrets.${name}`, { description });
  const accesses = counter('accesses', 'secret accesses, by action and outcome');
  const denials = counter('denials', 'denied accesses, by error code');
  const failures = counter('failures', 'failed accesses, by error code');
  const providerErrors = counter('provider_errors', 'provider errors, by provider and code');
  const cacheHits = counter('cache_hits', 'accesses served from the cache');
  const refreshes = counter('refreshes', 'credential refreshes and lease renewals');
  const rotations = counter('rotations', 'secret rotations');
  const anomalies = counter('anomalies', 'anomaly alerts, by kind');
  const auditFailures = counter('audit_failures', 'audit records a sink failed to keep');
  const latency = meter.createHistogram('connector_secrets.latency', { description: 'access latency', unit: 'ms' });
  // Attribute sets are few and reused, so a warm access allocates nothing here.
  const base: Attributes = Object.freeze({ environment });
  const sets = new Map<string, Map<string, Attributes>>();
  const attrs = (kind: string, key: string, make: () => Attributes): Attributes => {
    let inner = sets.get(kind);
    if (inner === undefined) sets.set(kind, (inner = new Map()));
    let set = inner.get(key);
    if (set === undefined) {
      set = Object.freeze({ environment, ...make() });
      if (inner.size < 256) inner.set(key, set);
    }
    return set;
  };
  return {
    record(event) {
      const code = event.code ?? 'NONE';
      const { action, outcome } = event;
      switch (action) {
        case 'resolve':
        case 'cache-hit':
          accesses.add(1, attrs(action, outcome, () => ({ action, outcome })));
          if (outcome === 'success') {
            if (action === 'cache-hit') cacheHits.add(1, base);
            latency.record(event.latencyMs ?? 0, attrs('latency', action, () => ({ action })));
          }
          break;
        case 'refresh':
        case 'renew':
          if (outcome === 'success') refreshes.add(1, attrs('refresh', action, () => ({ action })));
          break;
        case 'rotate':
          if (outcome === 'success') rotations.add(1, base);
          break;
        case 'anomaly':
          anomalies.add(1, attrs('anomaly', code, () => ({ kind: code })));
          break;
        default:
          break;
      }
      if (outcome === 'denied') denials.add(1, attrs('denied', code, () => ({ code })));
      if (outcome === 'failure') {
        failures.add(1, attrs('failure', code, () => ({ code })));
        if (code === 'PROVIDER_ERROR' || code === 'PROVIDER_UNAVAILABLE') {
          const provider = event.provider ?? 'none';
          providerErrors.add(1, attrs(`provider|${code}`, provider, () => ({ code, provider })));
        }
      }
    },
    auditFailed() {
      auditFailures.add(1, { environment });
    },
  };
}
