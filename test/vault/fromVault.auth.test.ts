import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/handles/clock.js';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromVault, type FromVaultInit } from '../../src/vault/index.js';
import { CertificateAuthority, startVaultServer, type KvV2Engine, type VaultServer } from '../fixtures/vault-server/index.js';
import { errorText, generated, WAIT } from '../helpers.js';
import { allUnder, requestsTo, resolveContext, SimClock } from './helpers.js';

let dir: string;
const providers: SecretProvider[] = [];
const servers: VaultServer[] = [];
const value = generated();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cs-vault-auth-'));
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await Promise.all(servers.map((s) => s.close()));
});

async function server(clock?: SimClock): Promise<{ vault: VaultServer; kv: KvV2Engine }> {
  const vault = await startVaultServer(clock === undefined ? {} : { clock });
  servers.push(vault);
  const kv = vault.enableKv('kv', 2);
  kv.put('etl/db', { password: value });
  vault.policy('etl', { ...allUnder('kv/'), 'kv/data/denied/*': ['deny'] });
  return { vault, kv };
}

function provider(vault: VaultServer, init: FromVaultInit): SecretProvider {
  const p = fromVault({ address: vault.url, retry: { baseDelayMs: 1, deadlineMs: 2_000 }, ...init });
  providers.push(p);
  return p;
}

const read = async (p: SecretProvider, env: Record<string, string> = {}, now?: () => number) => {
  const r = await p.resolve(parseRef('vault://kv/etl/db'), resolveContext({ env, ...(now ? { now } : {}) }));
  return JSON.parse(r.value as string) as { password: string };
};

async function file(name: string, text: string): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

describe('fromVault: auth methods', () => {
  it('token from VAULT_TOKEN by default, and VAULT_ADDR', async () => {
    const { vault } = await server();
    const token = vault.createToken({ policies: ['etl'] }).id;
    const p = fromVault();
    providers.push(p);
    expect((await read(p, { VAULT_ADDR: vault.url, VAULT_TOKEN: token })).password).toBe(value);
  });

  it('no address is a CONFIG_INVALID error', async () => {
    const p = fromVault();
    await expect(p.resolve(parseRef('vault://kv/x/y'), resolveContext({ env: {} }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('token from a file; a token refused by Vault is ACCESS_DENIED', async () => {
    const { vault } = await server();
    const t = vault.createToken({ policies: ['etl'] });
    const f = await file(`token-${generated(4)}`, `${t.id}\n`);
    const p = provider(vault, { auth: { method: 'token', token: `file://${f}` } });
    expect((await read(p)).password).toBe(value);
    const bad = provider(vault, { auth: { method: 'token', token: 'env://T' } });
    const err = await read(bad, { T: generated() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('AppRole with role_id and secret_id from files; the secret_id is re-read at each login and never shown', async () => {
    const { vault } = await server();
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'], tokenTtlMs: 600_000 });
    const secretId = approle.newSecretId(roleId, { numUses: 1 });
    const roleFile = await file(`role-${generated(4)}`, roleId);
    const secretFile = await file(`secret-${generated(4)}`, `${secretId}\n`);
    const p = provider(vault, { auth: { method: 'approle', roleId: `file://${roleFile}`, secretId: `file://${secretFile}` } });
    expect((await read(p)).password).toBe(value);
    expect(approle.logins).toBe(1);

    // A wrong secret_id: the login is refused; the error names the reason, not the value.
    const wrong = generated();
    const wrongFile = await file(`wrong-${generated(4)}`, wrong);
    const q = provider(vault, { auth: { method: 'approle', roleId, secretId: `file://${wrongFile}` } });
    const err = await read(q).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
    expect((err as Error).message).toContain('invalid role or secret ID');
    expect(errorText(err)).not.toContain(wrong);
    // Fix the file: the next login reads it again.
    await writeFile(wrongFile, approle.newSecretId(roleId));
    expect((await read(q)).password).toBe(value);
  });

  it('a secret_id given as a literal is refused without repeating it', async () => {
    const { vault } = await server();
    const literal = generated();
    const p = provider(vault, { auth: { method: 'approle', roleId: 'r', secretId: literal } });
    const err = await read(p).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(errorText(err)).not.toContain(literal);
  });

  it('other ref schemes go through resolveRef', async () => {
    const { vault } = await server();
    const approle = vault.enableAppRole('approle');
    const roleId = approle.addRole('etl', { policies: ['etl'] });
    const secretId = approle.newSecretId(roleId);
    const asked: string[] = [];
    const p = provider(vault, {
      auth: { method: 'approle', roleId, secretId: 'local://vault/secret-id' },
      resolveRef: async (ref) => {
        asked.push(String(ref));
        return secretId;
      },
    });
    expect((await read(p)).password).toBe(value);
    expect(asked).toEqual(['local://vault/secret-id']);
  });

  it('Kubernetes: the service-account token file is read again at every login', async () => {
    const clock = new SimClock(Date.now());
    const { vault } = await server(clock);
    const k8s = vault.enableKubernetes();
    k8s.addRole('etl', { boundServiceAccountNames: ['etl-sync'], boundServiceAccountNamespaces: ['data'], policies: ['etl'], tokenTtlMs: 60_000, renewable: false });
    const tokenFile = await file(`sa-${generated(4)}`, k8s.serviceAccountJwt('data', 'etl-sync'));
    const p = provider(vault, { clock, random: () => 0, auth: { method: 'kubernetes', role: 'etl', tokenPath: tokenFile } });
    expect((await read(p)).password).toBe(value);
    // The kubelet rotates the projected token; the non-renewable Vault token is replaced at ~60 %.
    const rotated = k8s.serviceAccountJwt('data', 'etl-sync');
    await writeFile(tokenFile, rotated);
    clock.advance(36_000);
    await vi.waitFor(() => expect(k8s.presented).toHaveLength(2), WAIT);
    expect(k8s.presented[1]).toBe(rotated);
    expect(requestsTo(vault, 'auth/token/renew-self')).toHaveLength(0);
    // A service account the role does not bind is refused.
    await writeFile(tokenFile, k8s.serviceAccountJwt('data', 'other'));
    const q = provider(vault, { auth: { method: 'kubernetes', role: 'etl', tokenPath: tokenFile } });
    await expect(read(q)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('JWT / OIDC workload identity', async () => {
    const { vault } = await server();
    const jwt = vault.enableJwt();
    jwt.addRole('etl', { boundAudiences: ['vault'], policies: ['etl'] });
    const good = await file(`jwt-${generated(4)}`, jwt.sign({ sub: 'repo:acme/etl', aud: 'vault' }));
    const p = provider(vault, { auth: { method: 'jwt', role: 'etl', jwt: `file://${good}` } });
    expect((await read(p)).password).toBe(value);
    const wrongAud = await file(`jwt-${generated(4)}`, jwt.sign({ sub: 'repo:acme/etl', aud: 'elsewhere' }));
    const q = provider(vault, { auth: { method: 'jwt', role: 'etl', jwt: `file://${wrongAud}` } });
    const err = await read(q).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
    expect((err as Error).message).toContain('invalid audience');
    // An OIDC mount at another path.
    const oidc = vault.enableJwt('oidc');
    oidc.addRole('etl', { boundAudiences: ['vault'], policies: ['etl'] });
    const o = await file(`jwt-${generated(4)}`, oidc.sign({ sub: 'svc', aud: ['vault'] }));
    const r = provider(vault, { auth: { method: 'jwt', mount: 'oidc', role: 'etl', jwt: `file://${o}` } });
    expect((await read(r)).password).toBe(value);
    // Without `role`, the login sends none and Vault uses the mount's default_role.
    oidc.defaultRole = 'etl';
    const d = provider(vault, { auth: { method: 'jwt', mount: 'oidc', jwt: `file://${o}` } });
    expect((await read(d)).password).toBe(value);
    oidc.defaultRole = undefined;
    const none = provider(vault, { auth: { method: 'jwt', mount: 'oidc', jwt: `file://${o}` } });
    await expect(read(none)).rejects.toMatchObject({ code: 'ACCESS_DENIED', message: expect.stringContaining('missing role') });
  });
});

describe('fromVault: the token refreshes itself', () => {
  it('renew-self at a jittered ~2/3 of the TTL, then a new login when the max TTL caps a renewal', async () => {
    const clock = new SimClock();
    const { vault } = await server(clock);
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'], tokenTtlMs: 60_000, tokenMaxTtlMs: 150_000 });
    const secretId = approle.newSecretId(roleId);
    const p = provider(vault, { clock, random: () => 0, auth: { method: 'approle', roleId, secretId: 'env://SID' } });
    await read(p, { SID: secretId });
    expect(approle.logins).toBe(1);
    const renewals = () => requestsTo(vault, 'auth/token/renew-self');

    clock.advance(35_000);
    expect(renewals()).toHaveLength(0);
    clock.advance(1_000); // 36 s = 0.6 × 60 s
    await vi.waitFor(() => expect(renewals()).toHaveLength(1), WAIT);
    clock.advance(36_000); // 72 s
    await vi.waitFor(() => expect(renewals()).toHaveLength(2), WAIT);
    clock.advance(36_000); // 108 s: the max TTL (150 s) caps this renewal at 42 s
    await vi.waitFor(() => expect(renewals()).toHaveLength(3), WAIT);
    expect(approle.logins).toBe(1);
    clock.advance(26_000); // 134 s ≥ 108 + 0.6 × 42: near the max TTL, so log in instead of renewing
    await vi.waitFor(() => expect(approle.logins).toBe(2), WAIT);
    expect(renewals()).toHaveLength(3);
    expect(renewals().every((r) => r.status === 200)).toBe(true);
    // Reads keep working with the new token, after the old one's max TTL.
    clock.advance(20_000);
    expect((await read(p, { SID: secretId }, () => clock.now())).password).toBe(value);
  });

  it('a non-renewable token is replaced by a login at ~2/3 of its TTL', async () => {
    const clock = new SimClock();
    const { vault } = await server(clock);
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'], tokenTtlMs: 30_000, renewable: false });
    const secretId = approle.newSecretId(roleId);
    const p = provider(vault, { clock, random: () => 0.5, auth: { method: 'approle', roleId, secretId: 'env://SID' } });
    await read(p, { SID: secretId });
    clock.advance(19_400); // 0.65 × 30 s = 19.5 s
    await new Promise((r) => setTimeout(r, 50));
    expect(approle.logins).toBe(1);
    clock.advance(200);
    await vi.waitFor(() => expect(approle.logins).toBe(2), WAIT);
    expect(requestsTo(vault, 'auth/token/renew-self')).toHaveLength(0);
  });

  it('a request refused because the token expired logs in again once and succeeds', async () => {
    const vaultClock = new SimClock();
    const { vault } = await server(vaultClock);
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'], tokenTtlMs: 60_000 });
    const secretId = approle.newSecretId(roleId);
    // The provider's clock stands still (a suspended process): it still believes in its token.
    const frozenAt = vaultClock.now();
    const frozen = { now: () => frozenAt, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
    const p = provider(vault, { clock: frozen, auth: { method: 'approle', roleId, secretId: 'env://SID' } });
    await read(p, { SID: secretId });
    vaultClock.advance(61_000); // the token expired on the server
    expect((await read(p, { SID: secretId })).password).toBe(value);
    expect(approle.logins).toBe(2);
    const reads = requestsTo(vault, 'kv/data/etl/db');
    expect(reads.map((r) => r.status)).toEqual([200, 403, 200]);
    expect(requestsTo(vault, 'auth/token/lookup-self').map((r) => r.status)).toEqual([403]);
  });

  it('a policy denial with a valid token is ACCESS_DENIED without a new login', async () => {
    const { vault, kv } = await server();
    kv.put('denied/x', { v: generated() });
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'] });
    const p = provider(vault, { auth: { method: 'approle', roleId, secretId: 'env://SID' } });
    const env = { SID: approle.newSecretId(roleId) };
    await read(p, env);
    await expect(p.resolve(parseRef('vault://kv/denied/x'), resolveContext({ env }))).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(approle.logins).toBe(1);
    expect(requestsTo(vault, 'auth/token/lookup-self').map((r) => r.status)).toEqual([200]);
  });

  it('re-logs in only once: a login whose token is refused too ends in ACCESS_DENIED', async () => {
    const { vault } = await server();
    const t = vault.createToken({ policies: ['etl'] });
    const p = provider(vault, { auth: { method: 'token', token: 'env://T' } });
    await read(p, { T: t.id });
    vault.tokens.revoke(t); // revoked behind our back; the env still holds the same token
    const err = await read(p, { T: t.id }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(requestsTo(vault, 'kv/data/etl/db').map((r) => r.status)).toEqual([200, 403]);
  });

  it('close() revokes a login token (and with it its leases) but not a given token', async () => {
    const { vault } = await server();
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'] });
    const p = provider(vault, { auth: { method: 'approle', roleId, secretId: 'env://SID' } });
    await read(p, { SID: approle.newSecretId(roleId) });
    await p.close!();
    expect(requestsTo(vault, 'auth/token/revoke-self').map((r) => r.status)).toEqual([204]);
    expect(vault.tokens.all().filter((t) => t.path === 'auth/approle/login').every((t) => t.revoked)).toBe(true);
    await expect(read(p)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    const t = vault.createToken({ policies: ['etl'] });
    const q = provider(vault, { auth: { method: 'token', token: 'env://T' } });
    await read(q, { T: t.id });
    await q.close!();
    expect(requestsTo(vault, 'auth/token/revoke-self')).toHaveLength(1);
    expect(t.revoked).toBe(false);
  });

  it('a given token read late in its life renews by its creation TTL, not by what was left of it', async () => {
    const clock = new SimClock(Date.now());
    const { vault } = await server(clock);
    const t = vault.createToken({ policies: ['etl'], ttlMs: 60_000, renewable: true });
    clock.advance(45_000); // 15 s left when the provider first reads it
    const p = provider(vault, { clock, random: () => 0, auth: { method: 'token', token: 'env://T' } });
    await read(p, { T: t.id });
    clock.advance(9_000); // ~60 % of the 15 s it had left
    await vi.waitFor(() => expect(requestsTo(vault, 'auth/token/renew-self').at(-1)?.status).toBe(200), WAIT);
    expect(t.expiresAt - clock.now()).toBe(60_000);
  });

  it('background renewal failures are reported and retried, never unhandled', async () => {
    const clock = new SimClock();
    const { vault } = await server(clock);
    const approle = vault.enableAppRole();
    const roleId = approle.addRole('etl', { policies: ['etl'], tokenTtlMs: 60_000 });
    const errors: unknown[] = [];
    const p = provider(vault, { clock, random: () => 0, retry: { maxAttempts: 1 }, onTokenError: (e) => errors.push(e), auth: { method: 'approle', roleId, secretId: 'env://SID' } });
    await read(p, { SID: approle.newSecretId(roleId) });
    vault.mode = 'sealed';
    clock.advance(36_000);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), WAIT);
    expect(errors[0]).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    vault.mode = 'active';
    clock.advance(200); // the retry, with backoff, before the token expires
    await vi.waitFor(() => expect(requestsTo(vault, 'auth/token/renew-self').at(-1)?.status).toBe(200), WAIT);
  });
});

describe('fromVault: TLS', () => {
  it('verifies Vault with a CA bundle and presents a client certificate (key from a SecretRef)', async () => {
    const ca = new CertificateAuthority('test vault CA', Date.now());
    const serverCert = ca.issue('127.0.0.1', ['localhost'], Date.now(), 3_600_000);
    const clientCert = ca.issue('etl-connector', [], Date.now(), 3_600_000);
    const vault = await startVaultServer({ tls: { key: serverCert.privateKey, cert: serverCert.certificate, ca: ca.certificatePem, requestCert: true } });
    servers.push(vault);
    vault.enableKv('kv', 2).put('etl/db', { password: value });
    const keyFile = await file(`client-${generated(4)}.key`, clientCert.privateKey);
    const caFile = await file(`ca-${generated(4)}.pem`, ca.certificatePem);
    const env = { T: vault.rootToken };
    const ok = provider(vault, { auth: { method: 'token', token: 'env://T' }, tls: { caFile, cert: clientCert.certificate, key: `file://${keyFile}` } });
    expect(vault.url.startsWith('https://')).toBe(true);
    expect((await read(ok, env)).password).toBe(value);

    // Without the CA, Vault's certificate is not trusted: PROVIDER_ERROR at once, no retries.
    const before = vault.requests.length;
    const untrusted = provider(vault, { auth: { method: 'token', token: 'env://T' }, retry: { maxAttempts: 4, baseDelayMs: 1 } });
    const err = await read(untrusted, env).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR' });
    expect((err as Error).message).toMatch(/TLS/);
    expect(vault.requests.length).toBe(before);

    // Without a client certificate, the server ends the handshake.
    const noClientCert = provider(vault, { auth: { method: 'token', token: 'env://T' }, tls: { ca: ca.certificatePem }, retry: { maxAttempts: 1 } });
    await expect(read(noClientCert, env)).rejects.toMatchObject({ code: expect.stringMatching(/PROVIDER_ERROR|PROVIDER_UNAVAILABLE/) });
  });

  it('a client certificate without its key is a CONFIG_INVALID error', async () => {
    const p = fromVault({ address: 'https://127.0.0.1:1', tls: { cert: 'x' } });
    await expect(p.resolve(parseRef('vault://kv/a/b'), resolveContext({ env: {} }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
