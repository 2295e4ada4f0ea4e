import { describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import { createSecrets } from '../../src/client.js';
import { AnomalyDetector, type AnomalyEvent } from '../../src/metrics/anomaly.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { fakeClock, generated } from '../helpers.js';

const HOUR = 3_600_000;

function detector(options: ConstructorParameters<typeof AnomalyDetector>[0], start = Date.UTC(2026, 0, 1, 2)) {
  const clock = fakeClock(start);
  const raised: AnomalyEvent[] = [];
  const d = new AnomalyDetector(options, { environment: 'prod', now: clock.now, raise: (a) => void raised.push(a) });
  const access = (over: Partial<AuditEvent> = {}) =>
    d.observe({
      ts: new Date(clock.now()).toISOString(),
      seq: 0,
      identity: 'orders-sync',
      environment: 'prod',
      action: 'resolve',
      ref: 'secret://orders-db/password',
      provider: 'mock',
      outcome: 'success',
      code: null,
      latencyMs: 1,
      version: null,
      ...over,
    });
  return { d, clock, raised, access };
}

describe('anomaly detection', () => {
  it('off-hours: after the warm-up, an access in an hour never seen raises once per cooldown', () => {
    const { clock, raised, access } = detector({ warmupAccesses: 10, cooldownMs: HOUR });
    for (let i = 0; i < 10; i++) {
      access();
      clock.advance(60_000);
    }
    expect(raised).toEqual([]);
    clock.advance(10 * HOUR); // 12:10, never seen
    access();
    access();
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ kind: 'off-hours', identity: 'orders-sync', ref: 'secret://orders-db/password', environment: 'prod', reason: expect.stringContaining('12:00-13:00 UTC') });
    clock.advance(HOUR + 1);
    access();
    expect(raised).toHaveLength(2);
  });

  it('learns usual hours from history (e.g. the audit log)', () => {
    const history = Array.from({ length: 20 }, (_, i) => ({ ts: new Date(Date.UTC(2025, 11, 1 + i, 2, 30)).toISOString(), ref: 'secret://orders-db/password', identity: 'orders-sync' }));
    const { raised, access, clock } = detector({ warmupAccesses: 20, history });
    access(); // 02:00, a learned hour
    expect(raised).toEqual([]);
    clock.advance(3 * HOUR);
    access();
    expect(raised.map((a) => a.kind)).toEqual(['off-hours']);
  });

  it('burst: a window above k x the moving average', () => {
    const { clock, raised, access } = detector({ warmupAccesses: 1_000_000, burstFactor: 5, burstWindowMs: 60_000, burstMinAccesses: 20, burstWarmupWindows: 5 });
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 4; i++) access();
      clock.advance(60_000);
    }
    expect(raised).toEqual([]);
    for (let i = 0; i < 30; i++) access();
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ kind: 'burst', reason: expect.stringContaining('21 accesses') });
  });

  it('burst: quiet windows count as zero in the moving average', () => {
    const options = { warmupAccesses: 1_000_000, burstFactor: 2, burstWindowMs: 60_000, burstMinAccesses: 20, burstWarmupWindows: 5 };
    const { clock, raised, access } = detector(options);
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 15; i++) access();
      clock.advance(60_000);
    }
    // Right after the steady windows, 25 accesses are below 2 x 15.
    for (let i = 0; i < 25; i++) access();
    expect(raised).toEqual([]);
    // After ten idle minutes the average has decayed, so the same 25 are a burst.
    clock.advance(11 * 60_000);
    for (let i = 0; i < 25; i++) access();
    expect(raised).toMatchObject([{ kind: 'burst', reason: expect.stringContaining('20 accesses') }]);
  });

  it('repeated denials: N within T', () => {
    const { clock, raised, access } = detector({ failureThreshold: 3, failureWindowMs: 10_000 });
    access({ outcome: 'denied', code: 'POLICY_DENIED' });
    clock.advance(20_000);
    access({ outcome: 'denied', code: 'POLICY_DENIED' });
    access({ outcome: 'failure', code: 'PROVIDER_ERROR' });
    expect(raised).toEqual([]);
    access({ outcome: 'denied', code: 'ENVIRONMENT_MISMATCH' });
    expect(raised).toMatchObject([{ kind: 'repeated-denials', reason: expect.stringContaining('3 denials') }]);
  });

  it('validates its options', () => {
    expect(() => detector({ burstFactor: 0 })).toThrow(/burstFactor/);
    expect(() => detector({ timeZone: 'Nowhere/City' })).toThrow(/time zone/);
  });

  it('in a client: on("anomaly"), onAlert and an audit record; outside-window from the policy', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 6));
    const events: AuditEvent[] = [];
    const onAlert = vi.fn();
    const mock = fromMock();
    mock.set('secret://x', generated());
    const secrets = createSecrets({
      environment: 'dev',
      identity: 'batch',
      providers: [mock],
      now: clock.now,
      audit: callbackAuditSink((e) => void events.push(e)),
      policy: { version: 1, rules: [{ name: 'night', identity: 'batch', allow: ['secret://x'], windows: ['01:00-05:00'] }] },
      anomaly: { failureThreshold: 2, failureWindowMs: 60_000 },
      onAlert,
    });
    const seen: AnomalyEvent[] = [];
    secrets.on('anomaly', (a) => void seen.push(a));
    await secrets.get('secret://x').catch(() => {});
    await secrets.get('secret://x').catch(() => {});
    expect(seen.map((a) => a.kind)).toEqual(['outside-window', 'repeated-denials']);
    expect(onAlert).toHaveBeenCalledTimes(2);
    const alerts = events.filter((e) => e.action === 'anomaly');
    expect(alerts).toMatchObject([
      { outcome: 'alert', code: 'outside-window', ref: 'secret://x', identity: 'batch' },
      { outcome: 'alert', code: 'repeated-denials' },
    ]);
    expect(secrets.metrics().anomalies).toBe(2);
    await secrets.close();
  });

  it('is off by default for a client without audit sinks or onAlert', async () => {
    const mock = fromMock();
    mock.set('secret://x', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const seen = vi.fn();
    secrets.on('anomaly', seen);
    for (let i = 0; i < 10; i++) await secrets.get('secret://missing').catch(() => {});
    expect(seen).not.toHaveBeenCalled();
  });
});
