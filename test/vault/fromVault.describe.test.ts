import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets } from '../../src/client.js';
import type { SecretProvider } from '../../src/provider.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { fromVault } from '../../src/vault/index.js';
import { startVaultServer, type KvV2Engine, type VaultServer } from '../fixtures/vault-server/index.js';
import { errorText, generated } from '../helpers.js';
import { allUnder, requestsTo, resolveContext, SimClock } from './helpers.js';

// Vault's clock is simulated so the created/updated/rotated times are known exactly.
const clock = new SimClock(Date.UTC(2026, 5, 1));
let vault: VaultServer;
let kv: KvV2Engine;
let token: string;
let metadataOnly: string;
const pw = [generated(), generated(), generated()];
const providers: SecretProvider[] = [];

beforeAll(async () => {
  vault = await startVaultServer({ clock });
  kv = vault.enableKv('kv', 2);
  vault.enableKv('legacy', 1);
  vault.policy('etl', allUnder('kv/', 'legacy/'));
  // Vault's own split: metadata/ is a separate ACL path from data/, so this token reads no value.
  vault.policy('inventory', { 'kv/metadata/*': ['read', 'list'] });
  kv.put('etl/orders-db', { password: pw[0] });
  clock.advance(86_400_000);
  kv.put('etl/orders-db', { password: pw[1] });
  clock.advance(86_400_000);
  kv.put('etl/orders-db', { password: pw[2] }, { environment: 'prod', owner: 'data-platform', rotation: '30d', expires_at: '2027-01-01T00:00:00Z' });
  kv.put('etl/fresh', { password: pw[0] }, { environment: 'dev' });
  // Made after the simulated days have passed, so they are live now.
  token = vault.createToken({ policies: ['etl'], ttlMs: 3_600_000 }).id;
  metadataOnly = vault.createToken({ policies: ['inventory'], ttlMs: 3_600_000 }).id;
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await vault.close();
});

/** A provider that reads its token from the named variable of the context's env. */
function provider(tokenValue: 'VAULT_TOKEN' | 'VAULT_METADATA_TOKEN'): SecretProvider {
  const p = fromVault({ address: vault.url, auth: { method: 'token', token: `env://${tokenValue}` }, retry: { baseDelayMs: 1, deadlineMs: 2_000 } });
  providers.push(p);
  return p;
}

const env = () => ({ VAULT_TOKEN: token, VAULT_METADATA_TOKEN: metadataOnly });
const ctx = () => resolveContext({ env: env() });

describe('fromVault: describe (KV v2 metadata endpoint)', () => {
  it('reports version, created/updated/rotated times and custom_metadata from metadata/, without reading data/', async () => {
    const p = provider('VAULT_TOKEN');
    const before = requestsTo(vault, 'kv/data/etl/orders-db').length;
    const facts = await p.describe!(parseRef('vault://kv/etl/orders-db'), ctx());
    expect(facts).toEqual({
      version: '3',
      createdAt: new Date(Date.UTC(2026, 5, 1)),
      updatedAt: new Date(Date.UTC(2026, 5, 3)),
      lastRotatedAt: new Date(Date.UTC(2026, 5, 3)),
      expiresAt: new Date('2027-01-01T00:00:00Z'),
      metadata: { environment: 'prod', owner: 'data-platform', rotation: '30d', expires_at: '2027-01-01T00:00:00Z' },
    });
    expect(requestsTo(vault, 'kv/metadata/etl/orders-db').at(-1)).toMatchObject({ method: 'GET', status: 200 });
    expect(requestsTo(vault, 'kv/data/etl/orders-db')).toHaveLength(before);
    expect(JSON.stringify(facts)).not.toContain(pw[2]);
  });

  it('reports no rotation for a secret that has only its first version', async () => {
    const facts = await provider('VAULT_TOKEN').describe!(parseRef('vault://kv/etl/fresh'), ctx());
    expect(facts.version).toBe('1');
    expect(facts.lastRotatedAt).toBeUndefined();
  });

  it('works with a token that may read metadata/ but not data/', async () => {
    const p = provider('VAULT_METADATA_TOKEN');
    expect((await p.describe!(parseRef('vault://kv/etl/orders-db'), ctx())).version).toBe('3');
    await expect(p.resolve(parseRef('vault://kv/etl/orders-db'), ctx())).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('answers SECRET_NOT_FOUND for a missing key, PROVIDER_UNAVAILABLE for a KV v1 mount', async () => {
    const p = provider('VAULT_TOKEN');
    await expect(p.describe!(parseRef('vault://kv/etl/nothing-here'), ctx())).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(p.describe!(parseRef('vault://legacy/etl/api'), ctx())).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });

  it('through the client: audited as describe, and a secret tagged for another environment is denied', async () => {
    const events: AuditEvent[] = [];
    const secrets = createSecrets({ environment: 'dev', env: env(), providers: [provider('VAULT_TOKEN')], audit: callbackAuditSink((e) => void events.push(e)) });
    const fresh = await secrets.describe('vault://kv/etl/fresh');
    expect(fresh).toMatchObject({ ref: 'vault://kv/etl/fresh', provider: 'vault', version: '1', metadata: { environment: 'dev' } });
    const err = await secrets.describe('vault://kv/etl/orders-db').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENVIRONMENT_MISMATCH' });
    expect(errorText(err)).not.toContain(pw[2]);
    await secrets.close();
    expect(events.map((e) => [e.action, e.outcome, e.ref, e.code ?? null])).toEqual([
      ['describe', 'success', 'vault://kv/etl/fresh', null],
      ['describe', 'denied', 'vault://kv/etl/orders-db', 'ENVIRONMENT_MISMATCH'],
    ]);
  });
});
