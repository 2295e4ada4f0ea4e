import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromAzureKeyVault } from '../../src/azure/fromAzureKeyVault.js';
import { createSecrets } from '../../src/client.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';
import { errorText, generated, rejection } from '../helpers.js';
import { kvClientOptions, resolveContext, secretCredential } from './helpers.js';

let d: AzureDoubles;
beforeAll(async () => {
  d = await startAzureDoubles(inject('azureTls'));
});
afterAll(() => d.close());

function provider(vault: string) {
  return fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl(vault), credential: secretCredential(d), clientOptions: kvClientOptions(0) });
}

describe('fromAzureKeyVault: describe (the version list, never a value)', () => {
  it('reports the current version, first creation, last rotation, expiry and tags from GET /secrets/{name}/versions', async () => {
    const value = generated();
    const exp = Math.floor(Date.UTC(2027, 0, 1) / 1000);
    d.kv.put('describe', 'orders-db', generated(), { tags: { environment: 'dev' } });
    const current = d.kv.put('describe', 'orders-db', value, { tags: { environment: 'dev', owner: 'data-platform', rotation: '30d' }, exp });
    const p = provider('describe');
    const facts = await p.describe!(parseRef('azure-kv://describe/orders-db'), resolveContext());
    expect(facts.version).toBe(current);
    expect(facts.expiresAt).toEqual(new Date(exp * 1000));
    expect(facts.createdAt).toBeInstanceOf(Date);
    expect(facts.lastRotatedAt).toBeInstanceOf(Date);
    expect(facts.metadata).toMatchObject({ environment: 'dev', owner: 'data-platform', rotation: '30d' });
    const paths = d.kv.requests.filter((r) => r.vault === 'describe').map((r) => r.path);
    expect(paths.filter((path) => path !== '/secrets/orders-db/versions')).toEqual([]);
    expect(JSON.stringify(facts)).not.toContain(value);
  });

  it('a single version has no rotation; a missing secret is SECRET_NOT_FOUND; the guard denies a prod secret in dev', async () => {
    d.kv.put('describe2', 'fresh', generated(), { tags: { environment: 'dev' } });
    const value = generated();
    d.kv.put('describe2', 'prod-db', value, { tags: { environment: 'prod' } });
    const secrets = createSecrets({ environment: 'dev', audit: false, providers: [provider('describe2')] });
    const fresh = await secrets.describe('azure-kv://describe2/fresh');
    expect(fresh.lastRotatedAt).toBeUndefined();
    expect(fresh.createdAt).toBeInstanceOf(Date);
    expect((await rejection(secrets.describe('azure-kv://describe2/none'))).code).toBe('SECRET_NOT_FOUND');
    const denied = await rejection(secrets.describe('azure-kv://describe2/prod-db'));
    expect(denied.code).toBe('ENVIRONMENT_MISMATCH');
    expect(errorText(denied)).not.toContain(value);
    await secrets.close();
  });
});
