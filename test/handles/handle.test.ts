import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createSecrets } from '../../src/client.js';
import { fromMock, type MockProvider } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';

const HOUR = 3_600_000;
const REF = 'vault://database/creds/etl';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(opts: { ttlMs?: number; maxTtlMs?: number; renewable?: boolean; random?: () => number } = {}) {
  const mock = fromMock();
  const values: string[] = [];
  mock.lease(REF, {
    ttlMs: opts.ttlMs ?? HOUR,
    ...(opts.maxTtlMs === undefined ? {} : { maxTtlMs: opts.maxTtlMs }),
    renewable: opts.renewable ?? false,
    issue: () => {
      const v = generated();
      values.push(v);
      return v;
    },
  });
  const secrets = createSecrets({ environment: 'dev', providers: [mock] });
  const handle = secrets.handle(REF, { random: opts.random ?? (() => 0) });
  return { mock, secrets, handle, values };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('refresh ahead with jitter', () => {
  it('refreshes at the drawn point of the lifetime and fires rotated(next, previous)', async () => {
    const { mock, handle, values } = setup({ random: () => 0 });
    const rotations: [string, string][] = [];
    handle.onRotate((next, prev) => rotations.push([next.reveal(), prev.reveal()]));
    expect((await handle.get()).reveal()).toBe(values[0]);
    await advance((2 * HOUR) / 3 - 1);
    expect(mock.calls).toBe(1);
    await advance(1);
    expect(mock.calls).toBe(2);
    expect(rotations).toEqual([[values[1], values[0]]]);
    expect((await handle.get()).reveal()).toBe(values[1]);
  });

  it('with random near 1 refreshes just before 3/4 of the lifetime', async () => {
    const { mock, handle } = setup({ random: () => 0.9999 });
    await handle.get();
    await advance(0.7499 * HOUR);
    expect(mock.calls).toBe(1);
    await advance(0.0001 * HOUR);
    expect(mock.calls).toBe(2);
  });

  it('10,000 concurrent gets during a refresh make one provider call', async () => {
    const { mock, handle } = setup();
    await handle.get();
    mock.delay(1000);
    await advance((2 * HOUR) / 3);
    expect(mock.calls).toBe(2);
    const all = await Promise.all(Array.from({ length: 10_000 }, () => handle.get()));
    expect(mock.calls).toBe(2);
    expect(new Set(all).size).toBe(1);
    await advance(1000);
    expect(mock.calls).toBe(2);
  });

  it('shares single-flight with secrets.get', async () => {
    const { mock, secrets, handle } = setup();
    mock.delay(100);
    const both = Promise.all([handle.get(), secrets.get(REF)]);
    await advance(100);
    const [a, b] = await both;
    expect(mock.calls).toBe(1);
    expect(a.reveal()).toBe(b.reveal());
  });
});

describe('failures', () => {
  it('an outage before the window: the current value keeps being served, retries back off, recovery rotates', async () => {
    const { mock, handle, values } = setup({ random: () => 0.5 });
    await handle.get();
    const errors: unknown[] = [];
    handle.on('refresh-error', (e) => errors.push(e));
    mock.fail('*', 'unavailable');
    await advance(0.71 * HOUR);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect((await handle.get()).reveal()).toBe(values[0]);
    const callsDuringOutage = mock.calls;
    await advance(60_000);
    // Backoff with full jitter at 0.5: 0.5 s, 1 s, 2 s, 4 s, 8 s, 16 s … — a handful of calls a minute, not one a second.
    expect(mock.calls - callsDuringOutage).toBeLessThan(10);
    mock.clearFailures();
    await advance(5 * 60_000);
    expect((await handle.get()).reveal()).toBe(values.at(-1));
    expect(values.length).toBe(2);
  });

  it('an outage through expiry: expiring, then expired, and get() fails closed with the cause', async () => {
    const { mock, handle } = setup({ random: () => 0.5 });
    await handle.get();
    const events: string[] = [];
    handle.on('expiring', () => events.push('expiring'));
    handle.on('expired', () => events.push('expired'));
    mock.fail('*', 'unavailable');
    await advance(HOUR);
    expect(events).toEqual(['expiring', 'expired']);
    const err = await handle.get().catch((e: unknown) => e as { code: string; cause: { code: string } });
    expect(err).toMatchObject({ code: 'SECRET_EXPIRED', cause: { code: 'PROVIDER_UNAVAILABLE' } });
    mock.clearFailures();
    await expect(handle.get()).resolves.toBeDefined();
  });

  it('short lifetimes still refresh ahead in the background with the default safety margin', async () => {
    const { mock, handle, values } = setup({ ttlMs: 2000, random: () => 0.5 });
    const rotated = vi.fn();
    handle.onRotate(rotated);
    await handle.get();
    await advance(1500);
    expect(mock.calls).toBe(2);
    expect(rotated).toHaveBeenCalledOnce();
    expect((await handle.get()).reveal()).toBe(values[1]);
  });

  it('a credential replaced after it expired is still announced as a rotation', async () => {
    const { mock, handle, values } = setup({ random: () => 0.5 });
    await handle.get();
    const rotations: [string, string][] = [];
    handle.onRotate((next, prev) => rotations.push([next.reveal(), prev.reveal()]));
    mock.fail('*', 'unavailable');
    await advance(HOUR);
    mock.clearFailures();
    await handle.get();
    expect(rotations).toEqual([[values.at(-1), values[0]]]);
  });

  it('never hands out a credential within the safety margin of its expiry', async () => {
    const { mock, handle, values } = setup({ random: () => 0.5 });
    await handle.get();
    mock.fail('*', 'unavailable');
    await advance(HOUR - 1000 - 1);
    expect((await handle.get()).reveal()).toBe(values[0]);
    await advance(1);
    await expect(handle.get()).rejects.toMatchObject({ code: 'SECRET_EXPIRED' });
  });

  it('an outage during the refresh: one failed attempt, then the retry recovers before expiry', async () => {
    const { mock, handle, values } = setup({ random: () => 0.5 });
    await handle.get();
    mock.fail('*', 'unavailable', { times: 1 });
    const errors = vi.fn();
    handle.on('refresh-error', errors);
    await advance(0.75 * HOUR);
    expect(errors).toHaveBeenCalledOnce();
    expect(values.length).toBe(2);
    expect((await handle.get()).reveal()).toBe(values[1]);
  });

  it('when nothing valid remains, get() asks the provider itself rather than wait for a backoff timer', async () => {
    const { mock, handle, values } = setup({ random: () => 0.5 });
    await handle.get();
    mock.fail('*', 'unavailable');
    await advance(HOUR);
    mock.clearFailures();
    const calls = mock.calls;
    expect((await handle.get()).reveal()).toBe(values.at(-1));
    expect(mock.calls).toBe(calls + 1);
    expect(handle.expiresAt).toBeGreaterThan(Date.now());
  });

  it('a credential that arrives already expired is refused', async () => {
    const mock = fromMock();
    mock.set(REF, generated(), { ttlMs: -5 });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    await expect(secrets.handle(REF).get()).rejects.toMatchObject({ code: 'SECRET_EXPIRED' });
  });
});

describe('leases', () => {
  it('renews a renewable lease instead of re-reading, until the max TTL is near; then replaces it', async () => {
    const { mock, handle, values } = setup({ ttlMs: 4000, maxTtlMs: 12_000, renewable: true });
    const events: string[] = [];
    handle.on('renewed', () => events.push('renewed'));
    handle.onRotate(() => events.push('rotated'));
    await handle.get();
    await advance(11_000);
    expect(events.slice(0, 2)).toEqual(['renewed', 'renewed']);
    expect(events).toContain('rotated');
    expect(mock.renewCalls).toBeGreaterThanOrEqual(2);
    expect(values.length).toBe(2);
    // The credential in use is never past its lease.
    const lease = mock.leases.find((l) => !l.revoked && l.expiresAt > Date.now());
    expect(lease).toBeDefined();
  });

  it('a refused renewal means a new credential', async () => {
    const { mock, handle, values } = setup({ ttlMs: 60_000, renewable: true });
    await handle.get();
    mock.fail(REF, 'denied', { times: 1 });
    const rotated = vi.fn();
    handle.onRotate(rotated);
    await advance(50_000);
    expect(rotated).toHaveBeenCalledOnce();
    expect(values.length).toBe(2);
  });

  it('close revokes the current lease and the previous one while it is alive, and stops timers', async () => {
    const { mock, handle } = setup({ ttlMs: 60_000 });
    await handle.get();
    await advance(45_000);
    expect(mock.leases.length).toBe(2);
    await handle.close();
    expect(mock.leases.map((l) => l.revoked)).toEqual([true, true]);
    await advance(10 * 60_000);
    expect(mock.calls).toBe(2);
    await expect(handle.get()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('await using revokes on scope exit; secrets.close() closes every handle', async () => {
    const { mock, secrets } = setup({ ttlMs: 60_000 });
    {
      await using h = secrets.handle(REF);
      await h.get();
    }
    expect(mock.leases[0]?.revoked).toBe(true);
    const other = secrets.handle(REF);
    await other.get();
    await secrets.close();
    expect(mock.leases.every((l) => l.revoked)).toBe(true);
  });
});

describe('credentials without expiry', () => {
  it('are re-read every ttlMs; an unchanged value is no rotation, a changed one is', async () => {
    const mock = fromMock();
    const first = generated();
    mock.set('secret://static', first);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle('secret://static', { ttlMs: 60_000 });
    const rotated = vi.fn();
    handle.onRotate(rotated);
    await handle.get();
    await advance(60_000);
    expect(mock.calls).toBe(2);
    expect(rotated).not.toHaveBeenCalled();
    const next = generated();
    await mock.rotate('secret://static', next);
    await advance(60_000);
    expect(rotated).toHaveBeenCalledOnce();
    expect((await handle.get()).reveal()).toBe(next);
  });

  it('maxStaleMs bounds how long a value is served while re-reads fail', async () => {
    const mock = fromMock();
    mock.set('secret://static', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle('secret://static', { ttlMs: 60_000, maxStaleMs: 120_000 });
    await handle.get();
    mock.fail('*', 'unavailable');
    await advance(179_999);
    await expect(handle.get()).resolves.toBeDefined();
    await advance(1);
    await expect(handle.get()).rejects.toMatchObject({ code: 'SECRET_EXPIRED' });
  });
});

describe('withCredential', () => {
  it('on an auth failure refreshes once (coalesced) and retries once', async () => {
    const { mock, handle, values } = setup();
    await handle.get();
    const seen: string[] = [];
    const run = (c: { reveal(): string }) => {
      seen.push(c.reveal());
      if (c.reveal() === values[0]) throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
      return 'ok';
    };
    const results = Promise.all([handle.withCredential(run), handle.withCredential(run), handle.withCredential(run)]);
    await advance(250);
    expect(await results).toEqual(['ok', 'ok', 'ok']);
    expect(mock.calls).toBe(2);
    expect(seen.filter((v) => v === values[1])).toHaveLength(3);
  });

  const builtIn: [string, Record<string, unknown>][] = [
    ['PostgreSQL 28P01', { code: '28P01' }],
    ['PostgreSQL 28000', { code: '28000' }],
    ['MySQL 1045', { errno: 1045 }],
    ['SQL Server 18456', { number: 18456 }],
    ['HTTP 401', { status: 401 }],
    ['HTTP 403', { statusCode: 403 }],
    ['AWS ExpiredToken', { name: 'ExpiredToken' }],
    ['AWS ExpiredTokenException', { name: 'ExpiredTokenException' }],
    ['AWS UnrecognizedClientException', { name: 'UnrecognizedClientException' }],
    ['OAuth invalid_grant', { error: 'invalid_grant' }],
    ['OAuth invalid_token', { error: 'invalid_token' }],
  ];
  it.each(builtIn)('retries once with a new credential after %s', async (_, fields) => {
    const { mock, handle, values } = setup();
    await handle.get();
    const seen: string[] = [];
    const p = handle.withCredential((c) => {
      seen.push(c.reveal());
      if (seen.length === 1) throw Object.assign(new Error('authentication failed'), fields);
      return 'ok';
    });
    await advance(250);
    expect(await p).toBe('ok');
    expect(seen).toEqual([values[0], values[1]]);
    expect(mock.calls).toBe(2);
  });

  it('does not retry other failures, and retries only once', async () => {
    const { mock, handle } = setup();
    await expect(handle.withCredential(() => Promise.reject(new Error('syntax error')))).rejects.toThrow('syntax error');
    expect(mock.calls).toBe(1);
    const always = handle.withCredential(() => Promise.reject(Object.assign(new Error('denied'), { status: 401 })));
    const caught = always.catch((e: unknown) => e);
    await advance(250);
    expect(await caught).toMatchObject({ status: 401 });
    expect(mock.calls).toBe(2);
  });

  it('accepts a custom detector', async () => {
    const { mock, handle } = setup();
    let first = true;
    const p = handle.withCredential(
      () => {
        if (first) {
          first = false;
          throw new Error('custom auth');
        }
        return 1;
      },
      { isAuthError: (e) => (e as Error).message === 'custom auth' },
    );
    await advance(250);
    expect(await p).toBe(1);
    expect(mock.calls).toBe(2);
  });
});

describe('schema', () => {
  it('parses JSON credentials with a schema', async () => {
    const mock = fromMock();
    mock.lease(REF, { ttlMs: HOUR, issue: (n) => ({ username: `etl-${n}`, password: generated() }) });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle(REF, { schema: z.object({ username: z.string(), password: z.string() }) });
    const c = await handle.get();
    expect(c.reveal().username).toBe('etl-1');
    await secrets.close();
  });
});

describe('not stuck on the mock', () => {
  it('a provider that makes the mock unusable still gives a typed error', async () => {
    const mock: MockProvider = fromMock();
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    await expect(secrets.handle('secret://missing').get()).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });
});
