import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromVault } from '../../src/vault/index.js';
import { startVaultServer, type PkiEngine, type VaultServer } from '../fixtures/vault-server/index.js';
import { allUnder, resolveContext } from './helpers.js';

let vault: VaultServer;
let pki: PkiEngine;
let p: SecretProvider;
let token: string;

beforeAll(async () => {
  vault = await startVaultServer();
  pki = vault.enablePki('pki');
  pki.addRole('etl-client', { allowedDomains: ['etl.internal'], allowSubdomains: true, ttlMs: 3_600_000, maxTtlMs: 7_200_000 });
  pki.addRole('docs-style', { allowAnyName: true, expirationAsString: true, generateLease: true, ttlMs: 600_000 });
  vault.policy('pki', { ...allUnder('pki/'), 'sys/leases/revoke': ['update'] });
  token = vault.createToken({ policies: ['pki'] }).id;
  p = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://T' }, retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await p.close?.();
  await vault.close();
});
const ctx = (now = Date.now()) => resolveContext({ env: { T: token }, now: () => now });

interface Issued {
  certificate: string;
  private_key: string;
  private_key_type: string;
  issuing_ca: string;
  ca_chain: string[];
  serial_number: string;
  expiration: number;
}

describe('fromVault: PKI issue', () => {
  it('issues a real certificate, key and chain; expiresAt is the certificate expiry', async () => {
    const r = await p.resolve(parseRef('vault://pki/issue/etl-client?common_name=orders.etl.internal&alt_names=replica.etl.internal&ttl=30m'), ctx());
    const issued = JSON.parse(r.value as string) as Issued;
    const cert = new X509Certificate(issued.certificate);
    const ca = new X509Certificate(issued.ca_chain[0]!);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost('replica.etl.internal')).toBe('replica.etl.internal');
    expect(cert.subject).toContain('CN=orders.etl.internal');
    expect(issued.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(issued.private_key))).toBe(true);
    expect(r.expiresAt?.getTime()).toBe(new Date(cert.validTo).getTime());
    expect(issued.expiration * 1000).toBe(r.expiresAt?.getTime());
    expect(r.expiresAt!.getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(r.version).toBe(issued.serial_number);
    expect(r.lease).toBeUndefined();
    expect(pki.issued).toContain(issued.serial_number);
  });

  it('accepts expiration as a string (as the API docs show) and carries a lease when the role makes one', async () => {
    const now = Date.now();
    const r = await p.resolve(parseRef('vault://pki/issue/docs-style?common_name=anything.test&private_key_format=pkcs8'), ctx(now));
    const issued = JSON.parse(r.value as string) as Issued;
    expect(typeof issued.expiration).toBe('number');
    expect(issued.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(r.lease).toMatchObject({ ttlMs: 600_000, renewable: false });
    expect(r.lease!.id).toMatch(/^pki\/issue\/docs-style\//);
    await p.revoke!(r.lease!, ctx());
    expect(pki.revoked).toEqual([issued.serial_number]);
  });

  it('works through the client with #field', async () => {
    // The client closes its providers on close(): give it its own.
    const own = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://T' } });
    const secrets = createSecrets({ environment: 'dev', providers: [own], env: { T: token }, cache: false });
    const key = await secrets.get('vault://pki/issue/etl-client?common_name=a.etl.internal#private_key');
    expect(key.reveal()).toMatch(/PRIVATE KEY/);
    await secrets.close();
  });

  it('a name the role does not allow is PROVIDER_ERROR with the reason; an unknown role is SECRET_NOT_FOUND', async () => {
    const err = await p.resolve(parseRef('vault://pki/issue/etl-client?common_name=evil.example.com'), ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR' });
    expect((err as Error).message).toContain('not allowed by this role');
    await expect(p.resolve(parseRef('vault://pki/issue/nope?common_name=a.etl.internal'), ctx())).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(p.resolve(parseRef('vault://pki/issue/etl-client'), ctx())).rejects.toMatchObject({ code: 'INVALID_REF' });
    await expect(p.resolve(parseRef('vault://pki/issue/etl-client?common_name=a.etl.internal&version=2'), ctx())).rejects.toMatchObject({ code: 'INVALID_REF' });
  });
});
