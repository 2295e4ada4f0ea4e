import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { azureAccessToken } from '../../src/azure/azureAccessToken.js';
import { AzureApiError } from '../../src/azure/AzureApiError.js';
import { fromAzureKeyVault, type FromAzureKeyVaultInit } from '../../src/azure/fromAzureKeyVault.js';
import { createSecrets } from '../../src/client.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { KEY_VAULT_RESOURCE, startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';
import { errorText, generated, rejection } from '../helpers.js';
import { KV_SCOPE, kvClientOptions, resolveContext, secretCredential } from './helpers.js';

let d: AzureDoubles;
beforeAll(async () => {
  d = await startAzureDoubles(inject('azureTls'));
});
afterAll(() => d.close());

/** A provider for `vault` with a fresh app's client-secret credential. */
function provider(vault: string, options: Partial<FromAzureKeyVaultInit> = {}, maxRetries = 0) {
  return fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl(vault), credential: secretCredential(d), clientOptions: kvClientOptions(maxRetries), ...options });
}

function client(vault: string, options: Partial<FromAzureKeyVaultInit> = {}, environment = 'dev') {
  return createSecrets({ environment, strictEnvironment: false, audit: false, providers: [provider(vault, options)] });
}

describe('fromAzureKeyVault: the real @azure/keyvault-secrets against the strict Key Vault double', () => {
  it('reads the current version, a JSON #field and a pinned version; the version id is the version', async () => {
    const password = generated();
    const v1 = d.kv.put('reads', 'orders-db', JSON.stringify({ username: 'etl', password: generated() }), { tags: { environment: 'dev' }, contentType: 'application/json' });
    const v2 = d.kv.put('reads', 'orders-db', JSON.stringify({ username: 'etl', password }), { tags: { environment: 'dev' }, contentType: 'application/json' });
    const secrets = client('reads');
    const whole = await secrets.get('azure-kv://reads/orders-db');
    expect(JSON.parse(whole.reveal())).toEqual({ username: 'etl', password });
    expect([whole.version, whole.provider]).toEqual([v2, 'azure-kv']);
    expect(whole.metadata).toMatchObject({ environment: 'dev', contentType: 'application/json', id: `${d.kv.vaultUrl('reads')}/secrets/orders-db/${v2}` });
    expect((await secrets.get('azure-kv://reads/orders-db#password')).reveal()).toBe(password);
    const old = await secrets.get(`azure-kv://reads/orders-db/${v1}`);
    expect([old.version, JSON.parse(old.reveal()).password === password]).toEqual([v1, false]);
    // Every request after the first challenge carried a live token; the challenge carried no body.
    const seen = d.kv.requests.filter((r) => r.vault === 'reads');
    expect(seen[0]?.auth).toBe('none');
    expect(seen.slice(1).every((r) => r.auth === 'ok')).toBe(true);
    await secrets.close();
  });

  it('maps tags to metadata, and the environment guard denies a prod secret in dev without the value', async () => {
    const value = generated();
    d.kv.put('tags', 'prod-db', value, { tags: { environment: 'prod', owner: 'data-platform', purpose: 'orders sync', sensitivity: 'critical', rotation: '30d' } });
    d.kv.put('tags', 'dev-db', generated(), { tags: { env: 'dev', sensitivity: 'very' } });
    const secrets = createSecrets({ environment: 'dev', audit: false, providers: [provider('tags')] });
    const dev = await secrets.get('azure-kv://tags/dev-db');
    expect(dev.metadata).toMatchObject({ environment: 'dev', env: 'dev' });
    expect(dev.metadata?.sensitivity).toBeUndefined();
    const denied = await rejection(secrets.get('azure-kv://tags/prod-db'));
    expect(denied.code).toBe('ENVIRONMENT_MISMATCH');
    expect(errorText(denied)).not.toContain(value);
    expect(secrets.redactor.redact(value)).toBe(value); // dropped before the redactor saw it
    await secrets.close();
    const prod = createSecrets({ environment: 'prod', audit: false, providers: [provider('tags')] });
    expect((await prod.get('azure-kv://tags/prod-db')).metadata).toMatchObject({ environment: 'prod', owner: 'data-platform', purpose: 'orders sync', sensitivity: 'critical', rotation: '30d' });
    await prod.close();
  });

  it('turns exp into expiresAt, refuses an expired secret, a secret before its nbf and a disabled version', async () => {
    const now = Math.floor(Date.now() / 1000);
    d.kv.put('times', 'later', generated(), { tags: { environment: 'dev' }, exp: now + 3600 });
    d.kv.put('times', 'gone', generated(), { tags: { environment: 'dev' }, exp: now - 60 });
    d.kv.put('times', 'early', generated(), { tags: { environment: 'dev' }, nbf: now + 3600 });
    d.kv.put('times', 'off', generated(), { tags: { environment: 'dev' }, enabled: false });
    const secrets = client('times');
    expect((await secrets.get('azure-kv://times/later')).expiresAt?.getTime()).toBe((now + 3600) * 1000);
    expect((await rejection(secrets.get('azure-kv://times/gone'))).code).toBe('SECRET_EXPIRED');
    const early = await rejection(secrets.get('azure-kv://times/early'));
    expect([early.code, early.message]).toEqual(['ACCESS_DENIED', expect.stringContaining(`not usable before ${new Date((now + 3600) * 1000).toISOString()}`)]);
    const off = await rejection(secrets.get('azure-kv://times/off'));
    expect(off.code).toBe('ACCESS_DENIED');
    expect(off.message).toContain('disabled');
    expect(off.cause).toBeInstanceOf(AzureApiError);
    expect(off.cause).toMatchObject({ status: 403, azureCode: 'Forbidden', innerCode: 'SecretDisabled' });
    await secrets.close();
  });

  it('maps every Key Vault error without passing Azure messages on', async () => {
    d.kv.put('errors', 'present', generated(), { tags: { environment: 'dev' } });
    const p = provider('errors');
    const ctx = resolveContext();
    const get = (name = 'present') => rejection(p.resolve(parseRef(`azure-kv://errors/${name}`), ctx));

    const missing = await get('absent');
    expect([missing.code, missing.cause]).toEqual(['SECRET_NOT_FOUND', expect.objectContaining({ status: 404, azureCode: 'SecretNotFound' })]);
    expect(errorText(missing)).not.toContain('was not found in this key vault');

    for (const inner of ['ForbiddenByRbac', 'AccessDenied']) {
      d.kv.fail({ status: 403, code: 'Forbidden', inner });
      const denied = await get();
      expect([denied.code, denied.cause]).toEqual(['ACCESS_DENIED', expect.objectContaining({ status: 403, innerCode: inner })]);
      expect(denied.message).toContain(inner);
      expect(errorText(denied)).not.toContain('Planned failure');
    }

    d.kv.fail({ status: 500, code: 'InternalServerError' });
    const broken = await get();
    expect([broken.code, broken.throttled]).toEqual(['PROVIDER_UNAVAILABLE', false]);
    d.kv.fail({ status: 503, code: 'ServiceUnavailable' });
    expect((await get()).code).toBe('PROVIDER_UNAVAILABLE');
    d.kv.fail({ status: 0, drop: true });
    const dropped = await get();
    expect(dropped.code).toBe('PROVIDER_UNAVAILABLE');
    await p.close?.();
  });

  it('retries 429 Throttled as Retry-After says, then PROVIDER_UNAVAILABLE (throttled); one 429 then success reads the value', async () => {
    const value = generated();
    d.kv.put('throttle', 'hot', value, { tags: { environment: 'dev' } });
    const p = provider('throttle', {}, 2);
    const ctx = resolveContext();
    await p.resolve(parseRef('azure-kv://throttle/hot'), ctx); // challenge done
    const before = d.kv.requests.length;
    d.kv.fail({ status: 429, code: 'Throttled', retryAfter: 1, times: 3 });
    const throttled = await rejection(p.resolve(parseRef('azure-kv://throttle/hot'), ctx));
    expect([throttled.code, throttled.throttled]).toEqual(['PROVIDER_UNAVAILABLE', true]);
    const attempts = d.kv.requests.slice(before);
    expect(attempts).toHaveLength(3); // the first try and maxRetries = 2
    // Retry-After: 1 — no retry came sooner than the server asked (a lower bound; nothing is timed).
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]!.at - attempts[i - 1]!.at).toBeGreaterThanOrEqual(950);
    d.kv.fail({ status: 429, code: 'Throttled', retryAfter: 1, times: 1 });
    expect((await p.resolve(parseRef('azure-kv://throttle/hot'), ctx)).value).toBe(value);
  });

  it('refuses with ACCESS_DENIED a token Key Vault no longer accepts, after the challenge retry (plain credential)', async () => {
    d.kv.put('revoked', 's', generated(), { tags: { environment: 'dev' } });
    const p = provider('revoked');
    const ctx = resolveContext();
    await p.resolve(parseRef('azure-kv://revoked/s'), ctx);
    d.entra.revokeAll();
    const refused = await rejection(p.resolve(parseRef('azure-kv://revoked/s'), ctx));
    expect([refused.code, refused.cause]).toEqual(['ACCESS_DENIED', expect.objectContaining({ status: 401 })]);
  });

  it('with a token handle, a revoked token is replaced by one refresh and the read succeeds; a token refused again is ACCESS_DENIED', async () => {
    const value = generated();
    d.kv.put('handle', 's', value, { tags: { environment: 'dev' } });
    const app = d.entra.addClientSecret();
    const { ClientSecretCredential } = await import('@azure/identity');
    const token = azureAccessToken({ scopes: [KV_SCOPE], credential: () => new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, { authorityHost: d.entra.url, disableInstanceDiscovery: true }) });
    const p = fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl('handle'), credential: token, clientOptions: kvClientOptions() });
    const ctx = resolveContext();
    await p.resolve(parseRef('azure-kv://handle/s'), ctx);
    const tokensBefore = d.entra.counts.token;
    d.entra.revokeAll();
    expect((await p.resolve(parseRef('azure-kv://handle/s'), ctx)).value).toBe(value);
    expect(d.entra.counts.token - tokensBefore).toBe(1);

    // A credential whose tokens Key Vault never accepts: one refresh, then ACCESS_DENIED.
    let minted = 0;
    const forged = azureAccessToken({ scopes: [KV_SCOPE], credential: { getToken: async () => ({ token: `forged-${++minted}`, expiresOnTimestamp: Date.now() + 3_600_000 }) } });
    const q = fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl('handle'), credential: forged, clientOptions: kvClientOptions() });
    const refused = await rejection(q.resolve(parseRef('azure-kv://handle/s'), ctx));
    expect([refused.code, minted]).toEqual(['ACCESS_DENIED', 2]);
    await Promise.all([token.close(), forged.close()]);
  });

  it('passes clientOptions to SecretClient: a challenge naming another resource is refused unless disableChallengeResourceVerification', async () => {
    d.kv.put('verify', 's', generated(), { tags: { environment: 'dev' } });
    d.kv.challengeResource = 'https://vault.azure.net';
    try {
      const refused = await rejection(provider('verify').resolve(parseRef('azure-kv://verify/s'), resolveContext()));
      expect(refused.code).toBe('PROVIDER_ERROR');
      expect(d.kv.requests.filter((r) => r.vault === 'verify').map((r) => r.auth)).toEqual(['none']); // no token was sent
      const p = provider('verify', { clientOptions: { ...kvClientOptions(), disableChallengeResourceVerification: true } });
      expect((await p.resolve(parseRef('azure-kv://verify/s'), resolveContext())).version).toBe(d.kv.versions('verify', 's')[0]!.version);
    } finally {
      d.kv.challengeResource = KEY_VAULT_RESOURCE;
    }
  });

  it('leaves refs for another vault to the next provider without a request, and never echoes a bad ref', async () => {
    const p = provider('mine');
    const before = d.kv.requests.length;
    const other = await rejection(p.resolve(parseRef('azure-kv://theirs/s'), resolveContext()));
    expect(other.code).toBe('SECRET_NOT_FOUND');
    expect(d.kv.requests.length).toBe(before);
    const pasted = 'p4ss_w0rd!value';
    const bad = await rejection(p.resolve(parseRef(`azure-kv://mine/${pasted}`), resolveContext()));
    expect(bad.code).toBe('INVALID_REF');
    expect(bad.message).not.toContain(pasted);
    const version = await rejection(p.resolve(parseRef('azure-kv://mine/s/not-a-version'), resolveContext()));
    expect(version.code).toBe('INVALID_REF');
    expect(() => fromAzureKeyVault({ vaultUrl: 'http://orders.vault.azure.net' })).toThrow(/https URL/);
  });

  it('a warm get makes no HTTP request; a cold one makes exactly one once the challenge is done', async () => {
    d.kv.put('count', 'a', generated(), { tags: { environment: 'dev' } });
    d.kv.put('count', 'b', generated(), { tags: { environment: 'dev' } });
    const token = azureAccessToken({ scopes: [KV_SCOPE], credential: secretCredential(d) });
    const secrets = createSecrets({ environment: 'dev', audit: false, providers: [fromAzureKeyVault({ vaultUrl: d.kv.vaultUrl('count'), credential: token, clientOptions: kvClientOptions() })] });
    const seen = () => d.kv.requests.filter((r) => r.vault === 'count').length;
    await secrets.get('azure-kv://count/a');
    expect(seen()).toBe(2); // the challenge, then the read
    const tokens = d.entra.counts.token;
    await secrets.get('azure-kv://count/a');
    expect(seen()).toBe(2); // warm: served from the client's cache
    await secrets.get('azure-kv://count/b');
    expect(seen()).toBe(3); // cold: exactly one request, with the handle's token
    expect(d.entra.counts.token).toBe(tokens);
    await secrets.close();
    await token.close();
  });
});
