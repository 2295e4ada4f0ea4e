import { metrics as otelMetrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import { createSecrets } from '../../src/client.js';
import { Histogram, LATENCY_BUCKETS_MS } from '../../src/metrics/histogram.js';
import { MetricsRecorder } from '../../src/metrics/metrics.js';
import { createOtelBridge, loadOpenTelemetry } from '../../src/metrics/otel.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';

describe('Histogram', () => {
  it('counts into fixed buckets with sum, min and max', () => {
    const h = new Histogram();
    expect(h.snapshot()).toMatchObject({ count: 0, sumMs: 0, minMs: 0, maxMs: 0 });
    for (const ms of [0, 1, 3, 40, 20_000]) h.observe(ms);
    const s = h.snapshot();
    expect(s).toMatchObject({ count: 5, sumMs: 20_044, minMs: 0, maxMs: 20_000 });
    expect(s.buckets).toHaveLength(LATENCY_BUCKETS_MS.length + 1);
    expect(s.buckets[0]).toEqual({ leMs: 1, count: 2 });
    expect(s.buckets.find((b) => b.leMs === 5)?.count).toBe(1);
    expect(s.buckets.find((b) => b.leMs === 50)?.count).toBe(1);
    expect(s.buckets.at(-1)).toEqual({ leMs: Infinity, count: 1 });
  });
});

describe('MetricsRecorder', () => {
  it('counts accesses, denials by code, provider errors by provider, refreshes, rotations', () => {
    const m = new MetricsRecorder();
    m.observe({ action: 'resolve', outcome: 'success', latencyMs: 12 });
    m.observe({ action: 'cache-hit', outcome: 'success', latencyMs: 0 });
    m.served(true, 0);
    m.observe({ action: 'resolve', outcome: 'denied', code: 'POLICY_DENIED' });
    m.observe({ action: 'resolve', outcome: 'denied', code: 'ENVIRONMENT_MISMATCH' });
    m.observe({ action: 'resolve', outcome: 'failure', code: 'PROVIDER_UNAVAILABLE', provider: 'vault' });
    m.observe({ action: 'refresh', outcome: 'success' });
    m.observe({ action: 'renew', outcome: 'success' });
    m.observe({ action: 'rotate', outcome: 'success' });
    m.observe({ action: 'revoke', outcome: 'success' });
    m.observe({ action: 'anomaly', outcome: 'alert', code: 'burst' });
    m.auditFailed();
    const s = m.snapshot();
    expect(s).toMatchObject({
      accesses: 6,
      fetches: 1,
      cacheHits: 2,
      denials: { total: 2, byCode: { POLICY_DENIED: 1, ENVIRONMENT_MISMATCH: 1 } },
      failures: { total: 1, byCode: { PROVIDER_UNAVAILABLE: 1 } },
      providerErrors: { total: 1, byProvider: { vault: 1 } },
      refreshes: 2,
      rotations: 1,
      revocations: 1,
      anomalies: 1,
      auditFailures: 1,
    });
    expect(s.latency.fetch).toMatchObject({ count: 1, sumMs: 12 });
    expect(s.latency.cached.count).toBe(2);
  });
});

describe('secrets.metrics()', () => {
  it('reflects the accesses of a client, with or without audit sinks', async () => {
    for (const audit of [undefined, callbackAuditSink(() => {})]) {
      const mock = fromMock();
      mock.set('secret://a', generated());
      const secrets = createSecrets({ environment: 'dev', providers: [mock], ...(audit === undefined ? {} : { audit }) });
      await secrets.get('secret://a');
      await secrets.get('secret://a');
      await secrets.get('secret://missing').catch(() => {});
      await secrets.get('secret://a?env=prod').catch(() => {});
      const m = secrets.metrics();
      expect(m).toMatchObject({ accesses: 4, fetches: 1, cacheHits: 1, denials: { byCode: { ENVIRONMENT_MISMATCH: 1 } }, failures: { byCode: { SECRET_NOT_FOUND: 1 } } });
      expect(JSON.stringify(m)).not.toContain('secret://');
      await secrets.close();
    }
  });
});

describe('OpenTelemetry bridge', () => {
  afterEach(() => {
    otelMetrics.disable();
  });

  it('loads @opentelemetry/api lazily, once', async () => {
    const api = await loadOpenTelemetry();
    expect(api).toBeDefined();
    expect(await loadOpenTelemetry()).toBe(api);
  });

  it('is skipped while no SDK is registered (the no-op meter)', async () => {
    const api = (await loadOpenTelemetry())!;
    expect(createOtelBridge(api, 'dev')).toBeUndefined();
  });

  it('records counters and histograms with low-cardinality attributes once a meter provider is registered', async () => {
    const recorded: { name: string; value: number; attributes: Record<string, string> }[] = [];
    const instrument = (name: string) => ({
      add: (value: number, attributes: Record<string, string> = {}) => void recorded.push({ name, value, attributes }),
      record: (value: number, attributes: Record<string, string> = {}) => void recorded.push({ name, value, attributes }),
    });
    const meter = { createCounter: instrument, createHistogram: instrument };
    otelMetrics.setGlobalMeterProvider({ getMeter: () => meter } as never);
    const mock = fromMock();
    mock.set('secret://a', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    await loadOpenTelemetry(); // the client's own continuation on the lazy import ran first
    await secrets.get('secret://a');
    await secrets.get('secret://a');
    await secrets.get('secret://a?env=prod').catch(() => {});
    const names = recorded.map((r) => r.name);
    expect(names).toContain('connector_secrets.accesses');
    expect(names).toContain('connector_secrets.cache_hits');
    expect(names).toContain('connector_secrets.latency');
    expect(recorded.find((r) => r.name === 'connector_secrets.denials')?.attributes).toEqual({ environment: 'dev', code: 'ENVIRONMENT_MISMATCH' });
    expect(JSON.stringify(recorded)).not.toContain('secret://');
    expect(secrets.metrics().accesses).toBe(3);
    await secrets.close();
  });
});
