import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { checkTimerMs, MAX_TIMER_MS, sleep, systemClock } from '../../src/handles/clock.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated, rejection } from '../helpers.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const DAY = 86_400_000;

describe('timers: one place decides whether a timer keeps the process alive', () => {
  it('no module but handles/clock.ts touches timers directly', async () => {
    // The rule is structural: awaited waits go through sleep() / clock.setTimeout(), background
    // work says { background: true }, and only clock.ts decides what that means for Node.
    const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const offenders: string[] = [];
    for (const f of files) {
      if (f === path.join('handles', 'clock.ts')) continue;
      const text = await readFile(path.join(SRC, f), 'utf8');
      // Calls to the globals, not methods of an injected clock (`clock.setTimeout(...)`).
      if (/(?<![.\w])(setTimeout|setInterval|setImmediate)\s*\(|\.unref\s*\(|AbortSignal\.timeout\s*\(|timers\/promises/.test(text)) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });

  it('the real clock keeps a timer ref’d unless it is background work', () => {
    const awaited = systemClock.setTimeout(() => {}, 10) as { handle: NodeJS.Timeout };
    const background = systemClock.setTimeout(() => {}, 10, { background: true }) as { handle: NodeJS.Timeout };
    expect(awaited.handle.hasRef()).toBe(true);
    expect(background.handle.hasRef()).toBe(false);
    systemClock.clearTimeout(awaited);
    systemClock.clearTimeout(background);
  });
});

describe('timers longer than Node allows', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the real clock waits the whole delay in steps (Node alone would fire after 1 ms)', async () => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, 60 * DAY, { background: true });
    await vi.advanceTimersByTimeAsync(59 * DAY);
    expect(fired).toBe(0);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(fired).toBe(1);
    const cancelled = systemClock.setTimeout(() => fired++, 30 * DAY);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1);
    systemClock.clearTimeout(cancelled); // cancels the re-armed step, not only the first
    await vi.advanceTimersByTimeAsync(30 * DAY);
    expect(fired).toBe(1);
  });

  it('a handle on a credential valid for 60 days reads it once, not in a loop', async () => {
    const mock = fromMock();
    const ref = 'vault://kv/long-lived';
    mock.set(ref, generated(), { ttlMs: 60 * DAY });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    const handle = secrets.handle(ref, { random: () => 0 });
    await handle.get();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(mock.calls).toBe(1);
    // The refresh comes at 2/3 of the lifetime (40 days), beyond one Node timer.
    await vi.advanceTimersByTimeAsync(40 * DAY - 10_001);
    expect(mock.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(mock.calls).toBe(2);
    await secrets.close();
  });
});

describe('sleep', () => {
  it('waits on the given clock and rejects with the abort reason', async () => {
    const asked: number[] = [];
    const clock = { now: () => 0, setTimeout: (fn: () => void, ms: number) => (asked.push(ms), setTimeout(fn, 0)), clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout) };
    await sleep(1234, { clock });
    expect(asked).toEqual([1234]);
    const ac = new AbortController();
    const pending = sleep(60_000, { signal: ac.signal });
    ac.abort(new Error('stop'));
    expect((await rejection(pending)).message).toBe('stop');
  });
});

describe('timer options above 2^31 - 1 ms are configuration errors', () => {
  it('checkTimerMs names the option and the bound, not the value', () => {
    expect(checkTimerMs('x', MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    for (const bad of [MAX_TIMER_MS + 1, Infinity, Number.NaN, -1]) {
      let err: unknown;
      try {
        checkTimerMs('retry.maxDelayMs', bad);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((err as Error).message).toContain('retry.maxDelayMs');
      expect((err as Error).message).not.toContain(String(bad));
    }
  });

  it('approvalTimeoutMs, handle and mock delays', () => {
    const providers = [fromMock()];
    expect(() => createSecrets({ environment: 'dev', providers, approvalTimeoutMs: 2 ** 31 })).toThrow(/approvalTimeoutMs/);
    expect(() => createSecrets({ environment: 'dev', providers, approvalTimeoutMs: MAX_TIMER_MS })).not.toThrow();
    const secrets = createSecrets({ environment: 'dev', providers });
    for (const option of ['ttlMs', 'backoffBaseMs', 'backoffMaxMs', 'authRetryCooldownMs'] as const) {
      expect(() => secrets.handle('vault://kv/a', { [option]: 2 ** 31 }), option).toThrow(new RegExp(option));
    }
    expect(() => providers[0]!.delay(2 ** 31)).toThrow(/delay/);
  });
});
