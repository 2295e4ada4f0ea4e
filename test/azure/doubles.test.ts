import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loopbackAgent, startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';

// The doubles are strict: these tests drive them with the real SDKs and also show what they refuse.
let d: AzureDoubles;
beforeAll(async () => {
  d = await startAzureDoubles(inject('azureTls'));
});
afterAll(() => d.close());

const idOptions = () => ({ authorityHost: d.entra.url, disableInstanceDiscovery: true });

describe('Azure loopback doubles', () => {
  it('serve the real SecretClient through the challenge flow with a client-secret token', async () => {
    const app = d.entra.addClientSecret();
    d.kv.put('doubles', 'probe', 'value-1', { tags: { environment: 'dev' } });
    const client = new SecretClient(d.kv.vaultUrl('doubles'), new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, idOptions()), { agent: loopbackAgent() });
    const before = d.kv.requests.length;
    const secret = await client.getSecret('probe');
    expect(secret.value).toBe('value-1');
    expect(secret.properties.tags).toEqual({ environment: 'dev' });
    const seen = d.kv.requests.slice(before);
    expect(seen.map((r) => r.auth)).toEqual(['none', 'ok']);
  });

  it('see the challenge request of a write without its body, then the body with the token', async () => {
    const app = d.entra.addClientSecret();
    const client = new SecretClient(d.kv.vaultUrl('writes'), new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, idOptions()), { agent: loopbackAgent() });
    d.kv.put('writes', 'seed', 'x');
    const before = d.kv.requests.length;
    await client.setSecret('written', 'value-2');
    expect(d.kv.requests.slice(before).map((r) => [r.method, r.auth, r.hadBody])).toEqual([
      ['PUT', 'none', false],
      ['PUT', 'ok', true],
    ]);
    expect(d.kv.versions('writes', 'written')[0]?.value).toBe('value-2');
  });

  it('refuse a wrong client secret and accept a certificate assertion only with the registered key', async () => {
    const app = d.entra.addClientSecret();
    const bad = new ClientSecretCredential(d.entra.tenantId, app.clientId, 'not-the-secret', idOptions());
    await expect(bad.getToken('https://vault.localhost/.default')).rejects.toMatchObject({ name: 'AuthenticationRequiredError', message: expect.stringContaining('invalid_client') });
    const cert = d.entra.addClientCertificate();
    const good = new ClientCertificateCredential(d.entra.tenantId, cert.clientId, { certificate: cert.combinedPem }, idOptions());
    const t = await good.getToken('https://vault.localhost/.default');
    expect(d.entra.verify(t.token, 'https://vault.localhost/.default')).toMatchObject({ clientId: cert.clientId });
    // Another key under the registered certificate: the signature check refuses it.
    const other = d.entra.addClientCertificate();
    const forged = new ClientCertificateCredential(d.entra.tenantId, cert.clientId, { certificate: `${cert.certificatePem}\n${other.privateKeyPem}` }, idOptions());
    await expect(forged.getToken('https://vault.localhost/.default')).rejects.toMatchObject({ name: 'AuthenticationRequiredError', message: expect.stringContaining('invalid_client') });
  });

  it('accept a token only while it lives: past its expiry Key Vault answers the challenge again', async () => {
    let skew = 0;
    const timed = await startAzureDoubles(inject('azureTls'), { now: () => Date.now() + skew });
    try {
      const app = timed.entra.addClientSecret();
      const credential = new ClientSecretCredential(timed.entra.tenantId, app.clientId, app.clientSecret, { authorityHost: timed.entra.url, disableInstanceDiscovery: true });
      const { token } = (await credential.getToken('https://vault.localhost/.default'))!;
      expect(timed.entra.verify(token, 'https://vault.localhost/.default')).toMatchObject({ clientId: app.clientId });
      expect(timed.entra.verify(token, 'https://management.azure.com/.default')).toBe('wrong-audience');
      skew = 3_600_000; // the double's clock passes the 1 h lifetime
      expect(timed.entra.verify(token, 'https://vault.localhost/.default')).toBe('expired');
      timed.kv.put('timed', 's', 'v');
      const res = await fetch(`https://127.0.0.1:${timed.kv.loopback.port}/secrets/s?api-version=7.4`, { headers: { authorization: `Bearer ${token}`, host: `timed.vault.localhost:${timed.kv.loopback.port}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer authorization="https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+", resource="https:\/\/vault\.localhost"$/);
      expect(timed.kv.requests.at(-1)?.auth).toBe('refused');
    } finally {
      await timed.close();
    }
  });
});
