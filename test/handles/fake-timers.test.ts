import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { sleep } from '../../src/handles/clock.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';

// The way connector authors run their suites: vitest's fake timers, no library clock injected.
const REF = 'vault://database/creds/etl';
const HOUR = 3_600_000;
const authError = Object.assign(new Error('password authentication failed'), { code: '28P01' });

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Settles `pending` without advancing the fake clock, or says it is still waiting on a timer. */
async function settledWithoutTimers<T>(pending: Promise<T>): Promise<T | 'still waiting'> {
  let done = false;
  const tagged = pending.then((v) => ((done = true), v));
  // Microtasks only: a timer of any length, 0 ms included, stays pending under fake timers.
  for (let i = 0; i < 1000 && !done; i++) await Promise.resolve();
  return done ? tagged : 'still waiting';
}

describe('under vi.useFakeTimers()', () => {
  it('sleep(0) uses no timer at all', async () => {
    expect(vi.getTimerCount()).toBe(0);
    const waiting = sleep(0);
    expect(vi.getTimerCount()).toBe(0);
    await waiting;
  });

  it('withCredential retries after an auth failure with authRetryCooldownMs: 0 and never arms a timer for it', async () => {
    const mock = fromMock();
    mock.set(REF, generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    const handle = secrets.handle(REF, { authRetryCooldownMs: 0 });
    await handle.get();
    const timersBefore = vi.getTimerCount();
    let tries = 0;
    const result = handle.withCredential(() => {
      if (++tries === 1) throw authError; // the backend refused the credential
      return 'ok';
    });
    expect(await settledWithoutTimers(result)).toBe('ok');
    expect(tries).toBe(2);
    expect(mock.calls).toBe(2); // the forced re-read
    // Only the handle's background refresh timer exists, re-armed for the new credential.
    expect(vi.getTimerCount()).toBe(timersBefore);
    await secrets.close();
  });

  it('with the default cooldown the retry waits on a timer that advancing the fake clock releases', async () => {
    const mock = fromMock();
    mock.set(REF, generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    const handle = secrets.handle(REF, { random: () => 0.5 });
    await handle.get();
    let tries = 0;
    const result = handle.withCredential(() => {
      if (++tries === 1) throw authError;
      return 'ok';
    });
    expect(await settledWithoutTimers(result)).toBe('still waiting');
    await vi.advanceTimersByTimeAsync(125); // random 0.5 × 250 ms
    expect(await result).toBe('ok');
    await secrets.close();
  });

  it('refresh ahead of expiry and expiry without a replacement run on the faked timers', async () => {
    const mock = fromMock();
    const values: string[] = [];
    mock.lease(REF, { ttlMs: HOUR, renewable: false, issue: () => (values.push(generated()), values.at(-1)!) });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle(REF, { random: () => 0 });
    const events: string[] = [];
    handle.on('rotated', () => events.push('rotated'));
    handle.on('expired', () => events.push('expired'));
    await handle.get();
    await vi.advanceTimersByTimeAsync((2 * HOUR) / 3);
    expect(events).toEqual(['rotated']);
    expect((await handle.get()).reveal()).toBe(values[1]);
    mock.fail(REF, 'unavailable');
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(events).toEqual(['rotated', 'expired']);
    const err = await handle.get().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SECRET_EXPIRED' });
    await secrets.close();
  });
});
