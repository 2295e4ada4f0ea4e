import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../src/audit/event.js';
import { createSecrets } from '../src/client.js';
import type { SecretProvider } from '../src/provider.js';
import { fromEnv } from '../src/providers/fromEnv.js';
import { fromFile } from '../src/providers/fromFile.js';
import { fromLocalStore } from '../src/providers/fromLocalStore.js';
import { fromMock } from '../src/testing/fromMock.js';
import { errorText, fakeClock, generated } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-describe-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A dev client over `providers` that keeps its audit records in `events`. */
function client(providers: SecretProvider[], extra: Partial<Parameters<typeof createSecrets>[0]> = {}) {
  const events: AuditEvent[] = [];
  const secrets = createSecrets({ environment: 'dev', providers, audit: callbackAuditSink((e) => void events.push(e)), ...extra });
  return { secrets, events };
}

describe('secrets.describe', () => {
  it('env: a set variable is described with no facts; an unset one is not found; the value is never in the answer', async () => {
    const value = generated();
    const { secrets, events } = client([fromEnv()], { env: { ORDERS_TOKEN: value } });
    const facts = await secrets.describe('env://ORDERS_TOKEN');
    expect(facts).toEqual({ ref: 'env://ORDERS_TOKEN', provider: 'env' });
    await expect(secrets.describe('env://MISSING_TOKEN')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await secrets.close();
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ['describe', 'success'],
      ['describe', 'failure'],
    ]);
    expect(JSON.stringify(events)).not.toContain(value);
  });

  it('file: reports the modification time without reading the file', async () => {
    const path = join(dir, 'orders-token');
    await writeFile(path, generated());
    const at = new Date(Date.UTC(2026, 2, 4, 5, 6, 7));
    await utimes(path, at, at);
    const { secrets } = client([fromFile({ root: dir })]);
    expect(await secrets.describe('file://orders-token')).toEqual({ ref: 'file://orders-token', provider: 'file', updatedAt: at });
    await expect(secrets.describe('file://nothing')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await secrets.close();
  });

  it('local store: version, created/updated, last rotation (version > 1) and labels, from the store bookkeeping', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1));
    const store = fromLocalStore({ path: join(dir, 'dev.enc.json'), key: randomBytes(32), environment: 'dev', now: clock.now });
    await store.init();
    await store.set('orders-db/password', generated(), { owner: 'data-platform', rotation: '30d' });
    clock.advance(86_400_000);
    await store.rotate('orders-db/password', generated(), { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: clock.now });
    await store.set('orders-api/token', generated());
    const { secrets } = client([store]);
    const rotated = await secrets.describe('local://orders-db/password');
    expect(rotated).toEqual({
      ref: 'local://orders-db/password',
      provider: 'local',
      version: '2',
      createdAt: new Date(Date.UTC(2026, 0, 1)),
      updatedAt: new Date(Date.UTC(2026, 0, 2)),
      lastRotatedAt: new Date(Date.UTC(2026, 0, 2)),
      metadata: { owner: 'data-platform', rotation: '30d', environment: 'dev' },
    });
    const fresh = await secrets.describe('secret://orders-api/token');
    expect(fresh.version).toBe('1');
    expect(fresh.lastRotatedAt).toBeUndefined();
    await secrets.close();
  });

  it('mock: reports its version, facts and metadata, counts no value read, and honours injected failures', async () => {
    const mock = fromMock();
    const updatedAt = new Date(Date.UTC(2026, 4, 1));
    mock.set('vault://kv/dev/orders-db', { password: generated() }, { version: '7', metadata: { environment: 'dev', owner: 'etl' }, facts: { updatedAt } });
    const { secrets } = client([mock]);
    expect(await secrets.describe('vault://kv/dev/orders-db')).toEqual({
      ref: 'vault://kv/dev/orders-db',
      provider: 'mock',
      version: '7',
      updatedAt,
      metadata: { environment: 'dev', owner: 'etl' },
    });
    expect(mock.calls).toBe(0);
    mock.fail('*', 'denied', { times: 1 });
    await expect(secrets.describe('vault://kv/dev/orders-db')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await secrets.close();
  });

  it('the guard denies a describe the policy does not allow, before any provider is asked, and audits it', async () => {
    const mock = fromMock();
    mock.set('secret://orders-db/admin', generated(), { metadata: { environment: 'dev' } });
    mock.set('secret://orders-db/password', generated(), { metadata: { environment: 'dev' } });
    const { secrets, events } = client([mock], {
      identity: 'orders-sync',
      policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*'], deny: ['secret://orders-db/admin'] }] },
    });
    mock.fail('secret://orders-db/admin', 'unavailable', { times: 1 });
    const err = await secrets.describe('secret://orders-db/admin').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'POLICY_DENIED' });
    // The injected failure is still pending: the provider was never asked.
    await expect(secrets.describe('secret://orders-db/admin')).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect((await secrets.describe('secret://orders-db/password')).provider).toBe('mock');
    await secrets.close();
    expect(events.map((e) => [e.action, e.outcome, e.code ?? null, e.rule ?? null])).toEqual([
      ['describe', 'denied', 'POLICY_DENIED', 'orders'],
      ['describe', 'denied', 'POLICY_DENIED', 'orders'],
      ['describe', 'success', null, 'orders'],
    ]);
    expect(errorText(err)).toContain('orders');
  });

  it('an environment guard denies a secret tagged for another environment (no expiry check: an expired secret is described)', async () => {
    const mock = fromMock();
    mock.set('secret://prod-db', generated(), { metadata: { environment: 'prod' } });
    mock.set('secret://old-db', generated(), { metadata: { environment: 'dev', expiresAt: '2020-01-01T00:00:00Z' }, facts: { expiresAt: new Date('2020-01-01T00:00:00Z') } });
    const { secrets } = client([mock]);
    await expect(secrets.describe('secret://prod-db')).rejects.toMatchObject({ code: 'ENVIRONMENT_MISMATCH' });
    expect((await secrets.describe('secret://old-db')).expiresAt).toEqual(new Date('2020-01-01T00:00:00Z'));
    await expect(secrets.get('secret://old-db')).rejects.toMatchObject({ code: 'SECRET_EXPIRED' });
    await secrets.close();
  });

  it('walks the chain: a provider without describe, or without the secret, passes to the next', async () => {
    const value = generated();
    const noDescribe: SecretProvider = { name: 'plain', schemes: ['env'], logical: true, resolve: async () => ({ value }) };
    const { secrets } = client([noDescribe, fromEnv()], { env: { ORDERS_TOKEN: value } });
    expect((await secrets.describe('env://ORDERS_TOKEN')).provider).toBe('env');
    await secrets.close();
    const alone = client([noDescribe]);
    await expect(alone.secrets.describe('env://ORDERS_TOKEN')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    await alone.secrets.close();
  });

  it('refuses a provider description that carries a value, without repeating it', async () => {
    const value = generated();
    const leaky: SecretProvider = { name: 'leaky', schemes: ['x'], resolve: async () => ({ value }), describe: async () => ({ value }) as never };
    const { secrets } = client([leaky]);
    const err = await secrets.describe('x://a').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR' });
    expect(errorText(err)).not.toContain(value);
    await secrets.close();
  });
});
