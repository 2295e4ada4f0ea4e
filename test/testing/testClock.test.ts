import { describe, expect, it, vi, afterEach } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { sleep } from '../../src/handles/clock.js';
import type { SecretProvider } from '../../src/provider.js';
import { createTestClock, fromMock } from '../../src/testing/index.js';
import { generated } from '../helpers.js';

const START = Date.UTC(2026, 0, 1, 2, 0, 0);
const REF = 'vault://kv/dev/orders-api';

afterEach(() => {
  vi.useRealTimers();
});

describe('createTestClock', () => {
  it('fires due timers in order at their own time, lists pending ones, and sets the time', async () => {
    const clock = createTestClock({ now: START });
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200, { background: true });
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
    const cancelled = clock.setTimeout(() => fired.push(['x', clock.now()]), 150);
    clock.clearTimeout(cancelled);
    expect(clock.pending()).toEqual([
      { at: START + 100, inMs: 100, background: false },
      { at: START + 200, inMs: 200, background: true },
    ]);
    await clock.advance(150);
    expect(fired).toEqual([['a', START + 100]]);
    expect(clock.now()).toBe(START + 150);
    await clock.set(START + 1000);
    expect(fired).toEqual([['a', START + 100], ['b', START + 200]]);
    expect(clock.pending()).toEqual([]);
    await clock.set(START); // backwards: time only
    expect(clock.now()).toBe(START);
  });

  it('runs the timers a fired timer’s promise chain sets (sleep in a loop)', async () => {
    const clock = createTestClock({ now: START });
    let rounds = 0;
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(1000, { clock });
        rounds++;
      }
    })();
    await clock.advance(3000);
    await loop;
    expect(rounds).toBe(3);
  });

  it('works the same with vi.useFakeTimers() on (it uses no real timer)', async () => {
    vi.useFakeTimers();
    const clock = createTestClock({ now: START });
    const waiting = sleep(500, { clock });
    expect(vi.getTimerCount()).toBe(0);
    await clock.advance(500);
    await waiting;
  });
});

describe('createSecrets({ clock }): every part of the client runs on it', () => {
  it('cache TTLs, handles, audit times and the resolve context', async () => {
    const clock = createTestClock({ now: START });
    const mock = fromMock();
    mock.set(REF, generated());
    const seen: SecretProvider[] = [];
    let ctxClock: unknown;
    const probe: SecretProvider = { name: 'probe', schemes: ['probe'], async resolve(_ref, ctx) { ctxClock = ctx.clock; return { value: generated() }; } };
    seen.push(probe);
    const events: AuditEvent[] = [];
    const secrets = createSecrets({ environment: 'dev', providers: [mock, probe], clock, cache: { ttlMs: 60_000 }, audit: callbackAuditSink((e) => void events.push(e)) });
    await secrets.get(REF);
    await secrets.get(REF);
    expect(mock.calls).toBe(1);
    await clock.advance(60_000);
    await secrets.get(REF);
    expect(mock.calls).toBe(2);
    expect(events[0]!.ts).toBe(new Date(START).toISOString());
    expect(events.at(-1)!.ts).toBe(new Date(START + 60_000).toISOString());

    const handle = secrets.handle(REF, { ttlMs: 120_000 });
    await handle.get();
    expect(clock.pending()).toContainEqual({ at: START + 180_000, inMs: 120_000, background: true });
    mock.resetCalls();
    await clock.advance(120_000);
    expect(mock.calls).toBe(1); // the handle's scheduled re-read ran on the test clock

    await secrets.get('probe://x');
    expect(ctxClock).toBe(clock);
    await secrets.close();
  });

  it('mock.delay waits on the client’s clock', async () => {
    const clock = createTestClock({ now: START });
    const mock = fromMock();
    mock.set(REF, generated());
    mock.delay(5_000);
    const secrets = createSecrets({ environment: 'dev', providers: [mock], clock });
    let done = false;
    const pending = secrets.get(REF).then(() => (done = true));
    await clock.advance(4_999);
    expect(done).toBe(false);
    expect(clock.pending()).toEqual([{ at: START + 5_000, inMs: 1, background: false }]);
    await clock.advance(1);
    await pending;
    expect(done).toBe(true);
    await secrets.close();
  });

  it('the approval timeout runs on it', async () => {
    const clock = createTestClock({ now: START });
    const mock = fromMock();
    mock.set('secret://orders-db', generated(), { metadata: { sensitivity: 'critical' } });
    const secrets = createSecrets({
      environment: 'dev', identity: 'orders-sync', providers: [mock], clock, approvalTimeoutMs: 10_000,
      policy: { version: 1, rules: [{ name: 'all', identity: 'orders-sync', allow: ['secret://**'], requireApproval: 'critical' }] },
      approve: () => new Promise<boolean>(() => {}), // never answers
    });
    const pending = secrets.get('secret://orders-db').catch((e: unknown) => e);
    await clock.advance(9_999);
    expect(clock.pending()).toHaveLength(1);
    await clock.advance(1);
    expect(await pending).toMatchObject({ code: 'POLICY_DENIED' });
    await secrets.close();
  });

  it('now and a handle’s own clock stay as aliases; clock and now together are refused', async () => {
    let t = START;
    const mock = fromMock();
    mock.set(REF, generated(), { ttlMs: 1000 });
    const viaNow = createSecrets({ environment: 'dev', providers: [mock], now: () => t, cache: false });
    const s = await viaNow.get(REF);
    expect(s.expiresAt?.getTime()).toBe(START + 1000);
    t += 5;
    const own = createTestClock({ now: START + 10_000 });
    const h = viaNow.handle(REF, { clock: own });
    expect((await h.get()).expiresAt?.getTime()).toBe(START + 5 + 1000); // the client's now stamps the value
    expect(own.pending().length).toBe(1); // the handle schedules on its own clock
    await viaNow.close();
    expect(() => createSecrets({ environment: 'dev', providers: [mock], now: () => t, clock: createTestClock() })).toThrow(/either clock or now/);
  });
});
