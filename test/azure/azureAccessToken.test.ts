import { ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { VirtualClock } from '../../bench/virtual-clock.js';
import { azureAccessToken } from '../../src/azure/azureAccessToken.js';
import { createSecrets } from '../../src/client.js';
import { fromEnv } from '../../src/providers/fromEnv.js';
import { loopbackAgent, startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';
import { errorText, generated, rejection, until } from '../helpers.js';
import { KV_SCOPE, identityOptions, secretCredential } from './helpers.js';

let d: AzureDoubles;
let dir: string;
beforeAll(async () => {
  d = await startAzureDoubles(inject('azureTls'));
  dir = mkdtempSync(path.join(tmpdir(), 'cs-azure-token-'));
});
afterAll(async () => {
  await d.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The double accepts the token for the Key Vault scope. */
const accepted = (token: string) => typeof d.entra.verify(token, KV_SCOPE) === 'object';

describe('azureAccessToken: a CredentialHandle over any @azure/identity credential', () => {
  it('ClientSecretCredential: the token is one the double issued; toTokenCredential shares it between two Azure clients', async () => {
    d.kv.put('shared', 'a', generated(), { tags: { environment: 'dev' } });
    const token = azureAccessToken({ scopes: [KV_SCOPE], credential: secretCredential(d) });
    const first = await token.get();
    expect(accepted(first.reveal())).toBe(true);
    expect(String(first)).toBe('[REDACTED]');
    const before = d.entra.counts.token;
    const credential = token.toTokenCredential();
    const one = new SecretClient(d.kv.vaultUrl('shared'), credential as never, { agent: loopbackAgent() });
    const two = new SecretClient(d.kv.vaultUrl('shared'), credential as never, { agent: loopbackAgent() });
    await Promise.all([one.getSecret('a'), two.getSecret('a'), one.getSecret('a')]);
    expect(d.entra.counts.token).toBe(before); // both clients used the handle's token
    await expect(credential.getToken(['https://management.azure.com/.default'])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await token.close();
  });

  it('ClientCertificateCredential with its PEM read through a SecretRef: the double checks the assertion signature', async () => {
    const cert = d.entra.addClientCertificate();
    const secrets = createSecrets({ environment: 'dev', audit: false, providers: [fromEnv({ env: { ETL_CLIENT_CERT: cert.combinedPem } })] });
    const token = azureAccessToken({
      scopes: [KV_SCOPE],
      credential: async () => new ClientCertificateCredential(d.entra.tenantId, cert.clientId, { certificate: (await secrets.get('env://ETL_CLIENT_CERT')).reveal() }, identityOptions(d)),
    });
    const got = await token.get();
    expect(d.entra.verify(got.reveal(), KV_SCOPE)).toMatchObject({ clientId: cert.clientId });
    // The key is the secret part of the PEM: the redactor knows it.
    expect(secrets.redactor.redact(cert.combinedPem)).not.toContain(cert.privateKeyPem.split('\n')[1]);
    // A key that does not belong to the registered certificate is refused (the signature check).
    const other = d.entra.addClientCertificate();
    const forged = azureAccessToken({ scopes: [KV_SCOPE], credential: new ClientCertificateCredential(d.entra.tenantId, cert.clientId, { certificate: `${cert.certificatePem}\n${other.privateKeyPem}` }, identityOptions(d)) });
    const refused = await rejection(forged.get());
    expect([refused.code, refused.cause]).toEqual(['ACCESS_DENIED', expect.objectContaining({ azureCode: 'invalid_client' })]);
    expect(errorText(refused)).not.toContain('AADSTS');
    await Promise.all([token.close(), forged.close(), secrets.close()]);
  });

  it('WorkloadIdentityCredential reads the federated token file; a token for an unregistered subject is refused', async () => {
    const app = d.entra.addClientSecret();
    d.entra.addFederatedCredential(app.clientId, 'system:serviceaccount:etl:orders-sync');
    const file = path.join(dir, 'azure-identity-token');
    writeFileSync(file, d.entra.federatedToken('system:serviceaccount:etl:orders-sync'));
    const make = () => new WorkloadIdentityCredential({ tenantId: d.entra.tenantId, clientId: app.clientId, tokenFilePath: file, ...identityOptions(d) });
    const token = azureAccessToken({ scopes: [KV_SCOPE], credential: make });
    expect(d.entra.verify((await token.get()).reveal(), KV_SCOPE)).toMatchObject({ clientId: app.clientId });
    // The kubelet rewrites the file; a credential made for the next token reads it again.
    writeFileSync(file, d.entra.federatedToken('system:serviceaccount:etl:someone-else'));
    const refused = await rejection(token.refresh());
    expect(refused.code).toBe('ACCESS_DENIED');
    await token.close();
  });

  it('ManagedIdentityCredential (App Service endpoint) and DefaultAzureCredential (environment variables)', async () => {
    const saved = { ...process.env };
    try {
      process.env['IDENTITY_ENDPOINT'] = d.entra.managedIdentityEndpoint;
      process.env['IDENTITY_HEADER'] = d.entra.identityHeader;
      const mi = azureAccessToken({ scopes: [KV_SCOPE], credential: () => new ManagedIdentityCredential() });
      expect(d.entra.verify((await mi.get()).reveal(), KV_SCOPE)).toMatchObject({ clientId: d.entra.managedIdentityClientId });
      expect(d.entra.counts['managed-identity']).toBeGreaterThan(0);
      await mi.close();
      delete process.env['IDENTITY_ENDPOINT'];
      delete process.env['IDENTITY_HEADER'];

      const app = d.entra.addClientSecret();
      Object.assign(process.env, { AZURE_TENANT_ID: d.entra.tenantId, AZURE_CLIENT_ID: app.clientId, AZURE_CLIENT_SECRET: app.clientSecret, AZURE_AUTHORITY_HOST: d.entra.url });
      const def = azureAccessToken({ scopes: [KV_SCOPE], credential: () => new DefaultAzureCredential({ disableInstanceDiscovery: true } as never) });
      expect(d.entra.verify((await def.get()).reveal(), KV_SCOPE)).toMatchObject({ clientId: app.clientId });
      await def.close();
    } finally {
      for (const k of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('refreshes at a jittered point of the lifetime on its clock, ahead of the Azure SDK window', async () => {
    const app = d.entra.addClientSecret();
    const clock = new VirtualClock(Date.now());
    const make = () => new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, identityOptions(d));
    const token = azureAccessToken({ scopes: [KV_SCOPE], credential: make, clock, random: () => 0.5 });
    const first = await token.get();
    const rotated: unknown[] = [];
    token.onRotate((next) => rotated.push(next));
    const start = d.entra.counts.token;
    // 1 h tokens, refresh drawn from [2/3, 3/4] of the lifetime: with random 0.5, at 42.5 min.
    await clock.runUntil(clock.now() + 42 * 60_000);
    expect(d.entra.counts.token).toBe(start);
    await clock.runUntil(clock.now() + 60_000);
    // The timer starts a real token request; get() keeps serving the held token meanwhile.
    await until(() => rotated.length === 1, 'the timed refresh');
    expect(d.entra.counts.token).toBe(start + 1);
    expect((await token.get()).reveal()).not.toBe(first.reveal());
    expect(d.entra.counts.token).toBe(start + 1);

    await token.close();
  });

  it('an expired token is recovered by exactly one refresh (a suspended machine: no timer ran, the clock jumped)', async () => {
    const app = d.entra.addClientSecret();
    let now = Date.now();
    // Timers never fire: only get() can notice the expiry.
    const frozen = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const make = () => new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, identityOptions(d));
    const token = azureAccessToken({ scopes: [KV_SCOPE], credential: make, clock: frozen });
    const first = await token.get();
    const start = d.entra.counts.token;
    now += 2 * 3_600_000;
    const rotated = new Promise<unknown>((resolve) => token.onRotate((_next, previous) => resolve(previous)));
    const fresh = await token.get();
    expect(d.entra.counts.token - start).toBe(1);
    expect(fresh.reveal()).not.toBe(first.reveal());
    expect(accepted(fresh.reveal())).toBe(true);
    expect(await rotated).toBe(first);
    await token.close();
  });

  it('maps token errors: refused credentials → ACCESS_DENIED without the secret or Entra text; Entra down → PROVIDER_UNAVAILABLE', async () => {
    const app = d.entra.addClientSecret();
    const wrong = generated();
    const bad = azureAccessToken({ scopes: [KV_SCOPE], credential: new ClientSecretCredential(d.entra.tenantId, app.clientId, wrong, identityOptions(d)) });
    const denied = await rejection(bad.get());
    expect(denied.code).toBe('ACCESS_DENIED');
    expect(errorText(denied)).not.toContain(wrong);
    expect(errorText(denied)).not.toContain('AADSTS');
    d.entra.failTokenRequests = { count: 100, status: 503 };
    try {
      const down = azureAccessToken({ scopes: [KV_SCOPE], credential: secretCredential(d) });
      const unavailable = await rejection(down.get());
      expect(unavailable.code).toBe('PROVIDER_UNAVAILABLE');
      await down.close();
    } finally {
      d.entra.failTokenRequests = undefined;
    }
    expect(() => azureAccessToken({ scopes: [] })).toThrow(/at least one scope/);
    await bad.close();
  });
});
