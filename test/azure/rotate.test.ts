import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromAzureKeyVault } from '../../src/azure/fromAzureKeyVault.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';
import { generated, rejection } from '../helpers.js';
import { kvClientOptions, resolveContext, secretCredential } from './helpers.js';

let d: AzureDoubles;
beforeAll(async () => {
  d = await startAzureDoubles(inject('azureTls'));
});
afterAll(() => d.close());

describe('fromAzureKeyVault rotate: setSecret writes a new version', () => {
  it('keeps the current version’s tags, sets exp from rotation.expiresAfterMs, and leaves the previous version readable', async () => {
    const tags = { environment: 'dev', owner: 'data-platform', rotation: '30d' };
    const first = d.kv.put('rot', 'api-key', generated(), { tags, contentType: 'text/plain', exp: Math.floor(Date.now() / 1000) + 60 });
    const p = fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl('rot'), credential: secretCredential(d), clientOptions: kvClientOptions(), rotation: { expiresAfterMs: 7 * 86_400_000 } });
    const now = Date.UTC(2026, 11, 1, 12, 0, 0, 500);
    const ctx = resolveContext({ now: () => now });
    const next = generated();
    const written = await p.rotate!(parseRef('azure-kv://rot/api-key'), next, ctx);
    const versions = d.kv.versions('rot', 'api-key');
    expect(versions).toHaveLength(2);
    const stored = versions[1]!;
    expect([stored.value, stored.version, stored.tags]).toEqual([next, written.version, tags]);
    // The caller's expiry, in whole seconds as Key Vault stores it; not the old version's.
    expect(stored.exp).toBe(Math.floor((now + 7 * 86_400_000) / 1000));
    expect(written.expiresAt?.getTime()).toBe(stored.exp! * 1000);
    expect(written.metadata).toMatchObject({ environment: 'dev', owner: 'data-platform' });
    expect((await p.resolve(parseRef('azure-kv://rot/api-key'), resolveContext())).value).toBe(next);
    expect((await p.resolve(parseRef(`azure-kv://rot/api-key/${first}`), resolveContext())).version).toBe(first);
  });

  it('creates a first version without tags or expiry when the secret does not exist and no expiry is configured', async () => {
    const p = fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl('rot'), credential: secretCredential(d), clientOptions: kvClientOptions() });
    const value = generated();
    await p.rotate!(parseRef('azure-kv://rot/fresh'), value, resolveContext());
    const [only] = d.kv.versions('rot', 'fresh');
    expect([only?.value, only?.tags, only?.exp]).toEqual([value, undefined, undefined]);
  });

  it('refuses a pinned version or a #field, and maps a refused write', async () => {
    d.kv.put('rot', 'pinned', generated(), { tags: { environment: 'dev' } });
    const p = fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl('rot'), credential: secretCredential(d), clientOptions: kvClientOptions() });
    const v = d.kv.versions('rot', 'pinned')[0]!.version;
    expect((await rejection(p.rotate!(parseRef(`azure-kv://rot/pinned/${v}`), 'x', resolveContext()))).code).toBe('INVALID_REF');
    expect((await rejection(p.rotate!(parseRef('azure-kv://rot/pinned#password'), 'x', resolveContext()))).code).toBe('INVALID_REF');
    await p.resolve(parseRef('azure-kv://rot/pinned'), resolveContext());
    d.kv.fail({ status: 403, code: 'Forbidden', inner: 'ForbiddenByRbac', times: 2, secret: 'pinned' });
    const denied = await rejection(p.rotate!(parseRef('azure-kv://rot/pinned'), generated(), resolveContext()));
    expect([denied.code, denied.cause]).toEqual(['ACCESS_DENIED', expect.objectContaining({ innerCode: 'ForbiddenByRbac' })]);
    expect(d.kv.versions('rot', 'pinned')).toHaveLength(1);
  });
});
