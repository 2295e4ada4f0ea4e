import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromVault, VaultApiError, type FromVaultInit } from '../../src/vault/index.js';
import { retryAfterMs } from '../../src/vault/transport.js';
import { startVaultServer, type KvV2Engine, type VaultServer } from '../fixtures/vault-server/index.js';
import { generated, rejection, WAIT } from '../helpers.js';
import { requestsTo, resolveContext, SimClock } from './helpers.js';

let vault: VaultServer;
let kv: KvV2Engine;
const providers: SecretProvider[] = [];
const value = generated();

beforeAll(async () => {
  // The trickle sends one body byte per 20 ms: a KV answer takes several seconds to arrive.
  vault = await startVaultServer({ trickleIntervalMs: 20 });
  kv = vault.enableKv('kv', 2);
  kv.put('etl/db', { password: value });
  for (let i = 0; i < 10; i++) kv.put(`app/s${i}`, { password: generated() });
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await vault.close();
});

function provider(init: FromVaultInit = {}): SecretProvider {
  const p = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://T' }, kvVersions: { kv: 2 }, ...init });
  providers.push(p);
  return p;
}
const ctx = () => resolveContext({ env: { T: vault.rootToken } });
const ref = parseRef('vault://kv/etl/db');

describe('fromVault: the timeout and the deadline bound the whole exchange, body included', () => {
  for (const [what, init] of [
    // Both far shorter than the trickled answer (several seconds), long enough for the headers.
    ['requestTimeoutMs', { requestTimeoutMs: 1_000, retry: { maxAttempts: 1 } }],
    ['retry.deadlineMs', { retry: { maxAttempts: 4, deadlineMs: 1_000 } }],
  ] as const) {
    it(`${what}: a server that sends its headers, then trickles the body, is cut off`, async () => {
      const p = provider(init);
      await p.resolve(ref, ctx()); // the token is held: only the data read is trickled
      const before = requestsTo(vault, 'kv/data/etl/db').length;
      vault.failNext(1, 'trickle', { path: 'kv/data/etl/db' });
      const err = await rejection(p.resolve(ref, ctx()));
      expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
      expect((err.cause as VaultApiError).code).toBe('ETIMEDOUT');
      // The client closed the connection before the body was through (no clock assert needed).
      await vi.waitFor(() => expect(requestsTo(vault, 'kv/data/etl/db').slice(before).find((r) => r.trickle !== undefined)?.trickle).toBe('cut'), { timeout: 10_000 });
    });
  }
});

describe('fromVault: Retry-After is honoured, inside the deadline', () => {
  /** Starts a read whose first answer is `status` (429) with `retryAfter`; returns the pending read and the clock. */
  function throttled(retryAfter: (clock: SimClock) => string, init: FromVaultInit = {}, status = 429) {
    const clock = new SimClock();
    const p = provider({ clock, random: () => 0, ...init });
    const before = requestsTo(vault, 'kv/data/etl/db').length;
    vault.failNext(1, status, { path: 'kv/data/etl/db', retryAfter: retryAfter(clock) });
    const pending = p.resolve(ref, resolveContext({ env: { T: vault.rootToken }, now: () => clock.now() }));
    return { clock, pending, reads: () => requestsTo(vault, 'kv/data/etl/db').slice(before) };
  }

  for (const [form, header] of [
    ['seconds', () => '7'],
    ['an HTTP date', (clock: SimClock) => new Date(clock.now() + 7_000).toUTCString()],
  ] as const) {
    it(`waits what Vault asks for (${form}), then retries`, async () => {
      const { clock, pending, reads } = throttled(header);
      const start = clock.now();
      // The one awaited timer is the wait (random 0 would make the backoff 0 ms): due in exactly 7 s.
      await vi.waitFor(() => expect(clock.awaited).toEqual([start + 7_000]), WAIT);
      expect(reads().map((r) => r.status)).toEqual([429]);
      clock.advance(6_999);
      expect(reads()).toHaveLength(1);
      clock.advance(1);
      expect(JSON.parse((await pending).value as string).password).toBe(value);
      expect(reads().map((r) => r.status)).toEqual([429, 200]);
    });
  }

  it('without a clock of its own, waits on the client’s clock from the resolve context (createSecrets({ clock }))', async () => {
    const clock = new SimClock();
    const p = provider({ random: () => 0 });
    const before = requestsTo(vault, 'kv/data/etl/db').length;
    vault.failNext(1, 429, { path: 'kv/data/etl/db', retryAfter: '7' });
    const pending = p.resolve(ref, resolveContext({ env: { T: vault.rootToken }, now: () => clock.now(), clock }));
    const start = clock.now();
    await vi.waitFor(() => expect(clock.awaited).toEqual([start + 7_000]), WAIT);
    clock.advance(7_000);
    expect(JSON.parse((await pending).value as string).password).toBe(value);
    expect(requestsTo(vault, 'kv/data/etl/db').slice(before).map((r) => r.status)).toEqual([429, 200]);
  });

  it('on any retried answer: a 503 with Retry-After (a proxy in front of Vault)', async () => {
    const { clock, pending, reads } = throttled(() => '2', {}, 503);
    const start = clock.now();
    await vi.waitFor(() => expect(clock.awaited).toEqual([start + 2_000]), WAIT);
    clock.advance(2_000);
    await pending;
    expect(reads().map((r) => r.status)).toEqual([503, 200]);
  });

  it('reads delay-seconds and HTTP dates; anything else asks for nothing', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(['3'], now)).toBe(3_000);
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0); // already past
    for (const junk of [undefined, '', '5.5', '-1', '1e3', 'soon']) expect(retryAfterMs(junk, now), String(junk)).toBeUndefined();
  });

  it('gives up at once when the wait asked for would cross the deadline', async () => {
    const { clock, pending, reads } = throttled(() => '3600', { retry: { deadlineMs: 15_000 } });
    const err = await rejection(pending);
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', throttled: true });
    expect(reads().map((r) => r.status)).toEqual([429]);
    expect(clock.awaited).toEqual([]);
  });
});

describe('fromVault: redirects', () => {
  it('follows a 307 (a standby pointing at the active node) with the same method, token and body', async () => {
    const standby = createServer((req, res) => {
      res.writeHead(307, { Location: `${vault.url}${req.url ?? '/'}` });
      res.end();
    });
    await new Promise<void>((resolve) => standby.listen(0, '127.0.0.1', resolve));
    try {
      const p = fromVault({ address: `http://127.0.0.1:${(standby.address() as AddressInfo).port}`, auth: { method: 'token', token: 'env://T' }, kvVersions: { kv: 2 } });
      providers.push(p);
      const before = requestsTo(vault, 'kv/data/etl/db').length;
      expect(JSON.parse((await p.resolve(ref, ctx())).value as string).password).toBe(value);
      expect(requestsTo(vault, 'kv/data/etl/db').slice(before)).toEqual([expect.objectContaining({ method: 'GET', hadToken: true, status: 200 })]);
    } finally {
      standby.closeAllConnections();
      await new Promise((resolve) => standby.close(resolve));
    }
  });
});

describe('fromVault: timer options above 2^31 - 1 ms are configuration errors', () => {
  it('requestTimeoutMs and every retry duration', () => {
    const base = { address: 'http://127.0.0.1:8200' };
    expect(() => fromVault({ ...base, requestTimeoutMs: 2 ** 31 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('requestTimeoutMs') }));
    for (const k of ['baseDelayMs', 'maxDelayMs', 'deadlineMs'] as const) {
      expect(() => fromVault({ ...base, retry: { [k]: 2 ** 31 } }), k).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(`retry.${k}`) }));
    }
    expect(() => fromVault({ ...base, requestTimeoutMs: 2 ** 31 - 1, retry: { deadlineMs: 2 ** 31 - 1 } })).not.toThrow();
  });
});

describe('fromVault: KV mount detection is shared per mount', () => {
  it('10 concurrent cold reads under one mount: 1 mount lookup, 10 reads, no listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const p = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://T' } });
      providers.push(p);
      const secrets = createSecrets({ environment: 'dev', providers: [p], env: { T: vault.rootToken }, cache: false, audit: false });
      const before = vault.requests.length;
      const got = await Promise.all(Array.from({ length: 10 }, (_, i) => secrets.get(`vault://kv/app/s${i}#password`)));
      expect(got).toHaveLength(10);
      const seen = vault.requests.slice(before).map((r) => r.path);
      expect(seen.filter((s) => s.startsWith('sys/internal/ui/mounts/'))).toHaveLength(1);
      expect(seen.filter((s) => s.startsWith('kv/data/app/'))).toHaveLength(10);
      // The login (lookup-self), the one mount lookup and the ten reads.
      expect(seen).toHaveLength(12);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      await secrets.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
