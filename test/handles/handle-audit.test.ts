import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets } from '../../src/client.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';

const REF = 'vault://database/creds/etl';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(auditFailure: 'warn' | 'fail-closed' = 'warn', failWrites = () => false) {
  const events: AuditEvent[] = [];
  const mock = fromMock({ environment: 'dev' });
  mock.lease(REF, { ttlMs: 4000, maxTtlMs: 12_000, renewable: true, issue: () => generated() });
  const secrets = createSecrets({
    environment: 'dev',
    providers: [mock],
    auditFailure,
    audit: callbackAuditSink((e) => {
      if (failWrites()) throw new Error('sink down');
      events.push(e);
    }),
  });
  return { mock, secrets, events };
}

describe('handle audit records', () => {
  it('records renewals, rotations, failed refreshes and revocations, with no value', async () => {
    const { mock, secrets, events } = setup();
    const handle = secrets.handle(REF, { random: () => 0.5 });
    const first = await handle.get();
    await vi.advanceTimersByTimeAsync(11_000);
    // The renewal and the re-read after it both fail once: a failed refresh, retried after backoff.
    mock.fail('*', 'unavailable', { times: 2 });
    await vi.advanceTimersByTimeAsync(3000);
    await secrets.close();
    const actions = events.map((e) => `${e.action}:${e.outcome}`);
    expect(actions[0]).toBe('resolve:success');
    expect(actions).toContain('renew:success');
    expect(actions).toContain('renew:failure');
    expect(actions).toContain('rotate:success');
    expect(actions).toContain('refresh:success');
    expect(actions).toContain('refresh:failure');
    expect(actions.filter((a) => a === 'revoke:success').length).toBeGreaterThanOrEqual(1);
    const rotate = events.find((e) => e.action === 'rotate')!;
    expect(rotate).toMatchObject({ ref: REF, provider: 'mock' });
    expect(rotate.version).not.toBe(first.version);
    const text = JSON.stringify(events);
    expect(text).not.toContain(first.reveal());
  });

  it('under fail-closed, a renewal the sink cannot record is not kept: the handle reads a new credential', async () => {
    let down = false;
    const { mock, secrets } = setup('fail-closed', () => down);
    const handle = secrets.handle(REF, { random: () => 0.5 });
    await handle.get();
    down = true;
    await vi.advanceTimersByTimeAsync(3000);
    expect(mock.renewCalls).toBe(1);
    // The renewal happened at the provider but was not recorded, so the handle did not rely on it.
    expect(mock.calls).toBeGreaterThanOrEqual(2);
    down = false;
    await secrets.close();
  });

  it('records a handle denied by policy as denied, with the rule, and allowed reads with theirs', async () => {
    const events: AuditEvent[] = [];
    const mock = fromMock({ environment: 'dev' });
    mock.lease(REF, { ttlMs: 60_000, issue: () => generated() });
    mock.lease('vault://database/creds/admin', { ttlMs: 60_000, issue: () => generated() });
    const secrets = createSecrets({
      environment: 'dev',
      identity: 'etl',
      providers: [mock],
      policy: { version: 1, rules: [{ name: 'etl-reader', identity: 'etl', allow: [REF] }] },
      audit: callbackAuditSink((e) => {
        events.push(e);
      }),
    });
    await secrets.handle(REF).get();
    await expect(secrets.handle('vault://database/creds/admin').get()).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(mock.callsFor('vault://database/creds/admin')).toBe(0);
    expect(events.find((e) => e.ref === REF)).toMatchObject({ action: 'resolve', outcome: 'success', rule: 'etl-reader' });
    expect(events.find((e) => e.ref === 'vault://database/creds/admin')).toMatchObject({ action: 'resolve', outcome: 'denied', code: 'POLICY_DENIED' });
    expect(events.find((e) => e.ref === 'vault://database/creds/admin')?.reason).toBeDefined();
    await secrets.close();
  });
});
