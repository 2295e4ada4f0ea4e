import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromVault, VaultApiError, type FromVaultInit } from '../../src/vault/index.js';
import { startVaultServer, type KvV2Engine, type VaultServer } from '../fixtures/vault-server/index.js';
import { errorText, generated } from '../helpers.js';
import { requestsTo, resolveContext } from './helpers.js';

let vault: VaultServer;
let kv: KvV2Engine;
const providers: SecretProvider[] = [];
const value = generated();

beforeAll(async () => {
  vault = await startVaultServer();
  kv = vault.enableKv('kv', 2, { casRequired: false });
  kv.put('etl/db', { password: value });
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await vault.close();
});
afterEach(() => {
  vault.mode = 'active';
});

function provider(init: FromVaultInit = {}, address = vault.url): SecretProvider {
  const p = fromVault({ address, auth: { method: 'token', token: 'env://T' }, kvVersions: { kv: 2 }, ...init });
  providers.push(p);
  return p;
}
const ctx = () => resolveContext({ env: { T: vault.rootToken } });
const ref = parseRef('vault://kv/etl/db');
const reads = () => requestsTo(vault, 'kv/data/etl/db');

/** Reads once with the token already held, so only the data requests are counted. */
async function warm(p: SecretProvider): Promise<void> {
  await p.resolve(ref, ctx());
}

describe('fromVault: unavailable servers are retried with backoff, then PROVIDER_UNAVAILABLE', () => {
  for (const [mode, status] of [
    ['sealed', 503],
    ['standby', 503],
  ] as const) {
    it(`${mode}: ${status} on every attempt`, async () => {
      const p = provider({ retry: { maxAttempts: 3, baseDelayMs: 5, deadlineMs: 5_000 } });
      await warm(p);
      const before = reads().length;
      vault.mode = mode;
      const err = await p.resolve(ref, ctx()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', provider: 'vault', ref: 'vault://kv/etl/db', throttled: false });
      expect(reads().slice(before).map((r) => r.status)).toEqual([status, status, status]);
      const cause = (err as Error).cause as VaultApiError;
      expect(cause).toBeInstanceOf(VaultApiError);
      expect(cause).toMatchObject({ status: 503, attempts: 3, method: 'GET', path: 'kv/data/etl/db' });
      expect(cause.errors[0]).toMatch(mode === 'sealed' ? /sealed/ : /not active/);
    });
  }

  it('a transient failure is retried and the read succeeds', async () => {
    const p = provider({ retry: { maxAttempts: 4, baseDelayMs: 5 } });
    await warm(p);
    const before = reads().length;
    vault.failNext(1, 502);
    vault.failNext(1, 'reset');
    const r = await p.resolve(ref, ctx());
    expect(JSON.parse(r.value as string).password).toBe(value);
    expect(reads().slice(before).map((q) => q.status)).toEqual([502, 0, 200]);
  });

  it('429 is throttled, and 412 is retried too', async () => {
    const p = provider({ retry: { maxAttempts: 2, baseDelayMs: 1 } });
    await warm(p);
    vault.failNext(2, 429);
    await expect(p.resolve(ref, ctx())).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', throttled: true });
    vault.failNext(1, 412);
    await expect(p.resolve(ref, ctx())).resolves.toMatchObject({ version: '1' });
  });

  it('a dropped connection (unavailable mode) and a refused connection', async () => {
    const p = provider({ retry: { maxAttempts: 2, baseDelayMs: 1 } });
    await warm(p);
    vault.mode = 'unavailable';
    const err = await p.resolve(ref, ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(((err as Error).cause as VaultApiError).code).toMatch(/ECONNRESET|socket hang up|ERR/);

    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = s.address() as { port: number };
        s.close(() => resolve(free));
      });
    });
    const refused = provider({ retry: { maxAttempts: 3, baseDelayMs: 1 } }, `http://127.0.0.1:${port}`);
    const e2 = await refused.resolve(ref, ctx()).catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(((e2 as Error).cause as VaultApiError)).toMatchObject({ code: 'ECONNREFUSED', attempts: 3 });
  });

  it('timeouts: each attempt is bounded, and the deadline bounds them all', async () => {
    const p = provider({ requestTimeoutMs: 150, retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 1, deadlineMs: 400 } });
    await warm(p);
    const before = reads().length;
    vault.mode = 'hang';
    const started = Date.now();
    const err = await p.resolve(ref, ctx()).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(((err as Error).cause as VaultApiError).code).toMatch(/ECONNABORTED|ETIMEDOUT/);
    expect(took).toBeLessThan(1_500);
    const attempts = reads().length - before;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
  });

  it('the full jitter comes from the injected random source', async () => {
    const waits: number[] = [];
    let calls = 0;
    const p = provider({ random: () => (calls++ % 2 === 0 ? 0 : 0.999), retry: { maxAttempts: 3, baseDelayMs: 200, deadlineMs: 5_000 } });
    await warm(p);
    vault.failNext(2, 503);
    const t0 = Date.now();
    await p.resolve(ref, ctx());
    waits.push(Date.now() - t0);
    // Waits: random 0 → 0 ms, then random 0.999 → ~400 ms (cap 200 × 2).
    expect(waits[0]).toBeGreaterThanOrEqual(350);
    expect(waits[0]).toBeLessThan(1_500);
  });
});

describe('fromVault: error detail', () => {
  it("Vault's errors are kept, with submitted values masked", async () => {
    const echo = await startVaultServer({ echoRequestInErrors: true });
    try {
      const engine = echo.enableKv('kv', 2);
      engine.put('etl/db', { password: generated() });
      engine.put('etl/db', { password: generated() });
      const p = fromVault({ address: echo.url, auth: { method: 'token', token: 'env://T' } });
      providers.push(p);
      const mine = generated();
      const err = await p.rotate!(parseRef('vault://kv/etl/db?version=1#password'), mine, resolveContext({ env: { T: echo.rootToken } })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROVIDER_ERROR' });
      const cause = (err as Error).cause as VaultApiError;
      expect(cause.errors[0]).toContain('check-and-set parameter did not match the current version');
      expect(cause.errors[0]).toContain('[REDACTED]');
      const text = errorText(err);
      expect(text).not.toContain(mine);
      expect(text).not.toContain(echo.rootToken);
    } finally {
      await echo.close();
    }
  });

  it('no error carries the token or the HTTP client internals', async () => {
    const p = provider({ retry: { maxAttempts: 1 } });
    await warm(p);
    for (const mode of ['sealed', 'unavailable'] as const) {
      vault.mode = mode;
      const err = await p.resolve(ref, ctx()).catch((e: unknown) => e);
      const text = errorText(err);
      expect(text).not.toContain(vault.rootToken);
      expect(text).not.toMatch(/X-Vault-Token/i);
    }
  });

  it('an aborted call rejects with the abort reason', async () => {
    const p = provider({ requestTimeoutMs: 5_000 });
    await warm(p);
    vault.mode = 'hang';
    const ac = new AbortController();
    const pending = p.resolve(ref, resolveContext({ env: { T: vault.rootToken }, signal: ac.signal }));
    const reason = new Error('gave up');
    setTimeout(() => ac.abort(reason), 50);
    await expect(pending).rejects.toMatchObject({ code: 'PROVIDER_ERROR', cause: reason });
  });
});
