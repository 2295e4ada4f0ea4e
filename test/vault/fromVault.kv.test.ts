import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromVault, type FromVaultInit } from '../../src/vault/index.js';
import { startVaultServer, type KvV1Engine, type KvV2Engine, type VaultServer } from '../fixtures/vault-server/index.js';
import { errorText, generated } from '../helpers.js';
import { allUnder, requestsTo, resolveContext } from './helpers.js';

let vault: VaultServer;
let kv: KvV2Engine;
let legacy: KvV1Engine;
let token: string;
const pw = { v1: generated(), v2: generated(), v3: generated(), legacy: generated(), ns: generated() };
const providers: SecretProvider[] = [];

beforeAll(async () => {
  vault = await startVaultServer();
  kv = vault.enableKv('kv', 2);
  legacy = vault.enableKv('legacy', 1);
  vault.enableKv('secret/team-a', 2);
  vault.policy('etl', { ...allUnder('kv/', 'legacy/', 'secret/team-a/'), 'kv/data/forbidden/*': ['deny'] });
  token = vault.createToken({ policies: ['etl'], ttlMs: 3_600_000 }).id;
  kv.put('etl/orders-db', { username: 'etl', password: pw.v1 });
  kv.put('etl/orders-db', { username: 'etl', password: pw.v2 });
  kv.put('etl/orders-db', { username: 'etl', password: pw.v3 }, { environment: 'prod', owner: 'data-platform', purpose: 'read orders', sensitivity: 'critical' });
  legacy.put('etl/api', { token: pw.legacy, ttl: '30m' });
  kv.put('etl/dev-db', { username: 'etl', password: pw.v1 }, { environment: 'dev', owner: 'data-platform' });
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await vault.close();
});

afterEach(() => {
  vault.mode = 'active';
});

function provider(init: FromVaultInit = {}): SecretProvider {
  const p = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://VAULT_TOKEN' }, retry: { baseDelayMs: 1, deadlineMs: 2_000 }, ...init });
  providers.push(p);
  return p;
}
const env = () => ({ VAULT_TOKEN: token });
const ctx = () => resolveContext({ env: env() });

describe('fromVault: KV', () => {
  it('reads a KV v2 secret by its logical path, with version and custom_metadata', async () => {
    const p = provider();
    const r = await p.resolve(parseRef('vault://kv/etl/orders-db'), ctx());
    expect(JSON.parse(r.value as string)).toEqual({ username: 'etl', password: pw.v3 });
    expect(r.version).toBe('3');
    expect(r.metadata).toEqual({ environment: 'prod', owner: 'data-platform', purpose: 'read orders', sensitivity: 'critical' });
    expect(requestsTo(vault, 'kv/data/etl/orders-db').at(-1)).toMatchObject({ method: 'GET', vaultRequestHeader: true, hadToken: true, status: 200 });
  });

  it('works through createSecrets with #field, and detects each mount once', async () => {
    const p = provider();
    const before = requestsTo(vault, /^sys\/internal\/ui\/mounts\//).length;
    const secrets = createSecrets({ environment: 'dev', providers: [p], env: env(), cache: false });
    const got = await secrets.get('vault://kv/etl/dev-db#password');
    expect(got.reveal()).toBe(pw.v1);
    expect(got.metadata).toMatchObject({ environment: 'dev', owner: 'data-platform' });
    expect((await secrets.get('vault://legacy/etl/api#token')).reveal()).toBe(pw.legacy);
    await Promise.all([secrets.get('vault://kv/etl/dev-db#username'), secrets.get('vault://kv/etl/dev-db#password')]);
    const lookups = requestsTo(vault, /^sys\/internal\/ui\/mounts\//).slice(before);
    expect(lookups.map((r) => r.path).sort()).toEqual(['sys/internal/ui/mounts/kv/etl/dev-db', 'sys/internal/ui/mounts/legacy/etl/api']);
    await secrets.close();
  });

  it('the environment guard reads the custom_metadata environment tag', async () => {
    const secrets = createSecrets({ environment: 'dev', providers: [provider()], env: env(), cache: false });
    const err = await secrets.get('vault://kv/etl/orders-db#password').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENVIRONMENT_MISMATCH' });
    expect(errorText(err)).not.toContain(pw.v3);
    await secrets.close();
  });

  it('pins versions; an unknown version is SECRET_NOT_FOUND', async () => {
    const p = provider();
    const r = await p.resolve(parseRef('vault://kv/etl/orders-db?version=2'), ctx());
    expect(JSON.parse(r.value as string).password).toBe(pw.v2);
    expect(r.version).toBe('2');
    await expect(p.resolve(parseRef('vault://kv/etl/orders-db?version=9'), ctx())).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(p.resolve(parseRef('vault://kv/etl/orders-db?version=0'), ctx())).rejects.toMatchObject({ code: 'INVALID_REF' });
  });

  it('deleted and destroyed versions are SECRET_NOT_FOUND with the reason; undelete brings one back', async () => {
    const p = provider();
    const key = `etl/${generated(6)}`;
    kv.put(key, { v: generated() });
    kv.put(key, { v: generated() });
    const post = (op: string, versions: number[]) =>
      fetch(`${vault.url}/v1/kv/${op}/${key}`, { method: 'POST', headers: { 'X-Vault-Token': vault.rootToken }, body: JSON.stringify({ versions }) });
    expect((await post('delete', [2])).status).toBe(204);
    expect((await post('destroy', [1])).status).toBe(204);
    const deleted = await p.resolve(parseRef(`vault://kv/${key}`), ctx()).catch((e: unknown) => e);
    expect(deleted).toMatchObject({ code: 'SECRET_NOT_FOUND' });
    expect((deleted as Error).message).toMatch(/version 2 of vault:\/\/kv\/.* was deleted at \d{4}-/);
    const destroyed = await p.resolve(parseRef(`vault://kv/${key}?version=1`), ctx()).catch((e: unknown) => e);
    expect(destroyed).toMatchObject({ code: 'SECRET_NOT_FOUND' });
    expect((destroyed as Error).message).toMatch(/version 1 of .* was destroyed/);
    expect((await post('undelete', [2])).status).toBe(204);
    expect((await p.resolve(parseRef(`vault://kv/${key}`), ctx())).version).toBe('2');
  });

  it('maps custom_metadata.expires_at to expiresAt; the client refuses an expired secret', async () => {
    const p = provider();
    const key = `etl/${generated(6)}`;
    const future = new Date(Date.now() + 86_400_000).toISOString();
    kv.put(key, { v: generated() }, { environment: 'dev', expires_at: future });
    const r = await p.resolve(parseRef(`vault://kv/${key}`), ctx());
    expect(r.expiresAt?.toISOString()).toBe(future);
    expect(r.metadata?.['expires_at']).toBe(future);
    kv.setCustomMetadata(key, { expires_at: new Date(Date.now() - 1000).toISOString() });
    const secrets = createSecrets({ environment: 'dev', providers: [p], env: env(), cache: false });
    await expect(secrets.get(`vault://kv/${key}#v`)).rejects.toMatchObject({ code: 'SECRET_EXPIRED' });
    kv.setCustomMetadata(key, { expires_at: 'next tuesday' });
    await expect(p.resolve(parseRef(`vault://kv/${key}`), ctx())).rejects.toMatchObject({ code: 'SECRET_FORMAT' });
    await secrets.close();
  });

  it('drops an unknown sensitivity label and non-string metadata', async () => {
    const key = `etl/${generated(6)}`;
    kv.put(key, { v: generated() }, { owner: 'team', sensitivity: 'extreme' });
    const r = await provider().resolve(parseRef(`vault://kv/${key}`), ctx());
    expect(r.metadata).toEqual({ owner: 'team' });
  });

  it('KV v1: plain data, `ttl` becomes a re-read hint, ?version is refused', async () => {
    const p = provider();
    const now = Date.now();
    const r = await p.resolve(parseRef('vault://legacy/etl/api'), resolveContext({ env: env(), now: () => now }));
    expect(JSON.parse(r.value as string)).toEqual({ token: pw.legacy, ttl: '30m' });
    expect(r.version).toBeUndefined();
    expect(r.refreshAfter?.getTime()).toBe(now + 30 * 60_000);
    await expect(p.resolve(parseRef('vault://legacy/etl/api?version=1'), ctx())).rejects.toMatchObject({ code: 'INVALID_REF' });
  });

  it('a multi-segment mount is found by the detection endpoint', async () => {
    const p = provider();
    const engine = vault.enableKv('secret/team-b', 2);
    vault.policy('team-b', allUnder('secret/team-b/'));
    const t = vault.createToken({ policies: ['team-b'] }).id;
    engine.put('db', { password: pw.ns });
    const r = await p.resolve(parseRef('vault://secret/team-b/db'), resolveContext({ env: { VAULT_TOKEN: t } }));
    expect(JSON.parse(r.value as string).password).toBe(pw.ns);
    expect(requestsTo(vault, 'secret/team-b/data/db').length).toBe(1);
  });

  it('kvVersions overrides detection', async () => {
    const p = provider({ kvVersions: { kv: 2 } });
    const before = requestsTo(vault, /^sys\/internal\/ui\/mounts\//).length;
    await p.resolve(parseRef('vault://kv/etl/orders-db'), ctx());
    expect(requestsTo(vault, /^sys\/internal\/ui\/mounts\//).length).toBe(before);
  });

  it('an old server without the mounts endpoint (404) is read as KV v1', async () => {
    const old = await startVaultServer({ mountsEndpoint: false });
    try {
      old.enableKv('secret', 1).put('app', { key: pw.legacy });
      const p = fromVault({ address: old.url });
      providers.push(p);
      const r = await p.resolve(parseRef('vault://secret/app'), resolveContext({ env: { VAULT_TOKEN: old.rootToken } }));
      expect(JSON.parse(r.value as string)).toEqual({ key: pw.legacy });
    } finally {
      await old.close();
    }
  });

  it('404 is SECRET_NOT_FOUND, an ACL denial is ACCESS_DENIED, the preflight denial too', async () => {
    const p = provider();
    await expect(p.resolve(parseRef('vault://kv/etl/missing'), ctx())).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND', provider: 'vault' });
    kv.put('forbidden/x', { v: generated() });
    await expect(p.resolve(parseRef('vault://kv/forbidden/x'), ctx())).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    const err = await p.resolve(parseRef('vault://nomount/x'), ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(errorText(err)).toContain('preflight capability check returned 403');
  });

  it('serves logical secret:// refs below logicalMount', async () => {
    const p = provider({ logicalMount: 'kv/etl' });
    expect(p.logical).toBe(true);
    const secrets = createSecrets({ environment: 'dev', providers: [p], env: env(), cache: false });
    expect((await secrets.get('secret://dev-db#password')).reveal()).toBe(pw.v1);
    await secrets.close();
  });

  it('a deny rule on either spelling of a logicalMount secret covers the other', async () => {
    const p = provider({ logicalMount: 'kv/etl' });
    expect(p.aliases?.(parseRef('secret://dev-db#password'))).toEqual(['vault://kv/etl/dev-db']);
    expect(p.aliases?.(parseRef('vault://kv/etl/dev-db'))).toEqual(['secret://dev-db']);
    expect(p.aliases?.(parseRef('vault://kv/other/dev-db'))).toEqual([]);
    for (const [denied, asked] of [
      ['vault://kv/etl/dev-db', 'secret://dev-db#password'],
      ['secret://dev-db', 'vault://kv/etl/dev-db#password'],
    ] as const) {
      const secrets = createSecrets({ environment: 'dev', providers: [p], env: env(), cache: false, policy: { version: 1, rules: [{ name: 'all', identity: '*', allow: ['*://**'], deny: [denied] }] } });
      await expect(secrets.get(asked)).rejects.toMatchObject({ code: 'POLICY_DENIED' });
      await secrets.close();
    }
  });

  it('refuses PKI params on KV refs and refs without a path below the mount', async () => {
    const p = provider();
    await expect(p.resolve(parseRef('vault://kv/etl/orders-db?common_name=x.test'), ctx())).rejects.toMatchObject({ code: 'INVALID_REF' });
    await expect(p.resolve(parseRef('vault://kv'), ctx())).rejects.toMatchObject({ code: 'INVALID_REF' });
  });

  it('sends X-Vault-Namespace on every call, logins included', async () => {
    const ns = vault.enableKv('kv', 2, { namespace: 'team-ns' });
    const approle = vault.enableAppRole('approle', { namespace: 'team-ns' });
    vault.policy('ns-reader', allUnder('kv/'));
    const roleId = approle.addRole('etl', { policies: ['ns-reader'] });
    const secretId = approle.newSecretId(roleId);
    ns.put('db', { password: pw.ns });
    const p = provider({ namespace: 'team-ns', auth: { method: 'approle', roleId, secretId: 'env://SECRET_ID' } });
    const before = vault.requests.length;
    const r = await p.resolve(parseRef('vault://kv/db'), resolveContext({ env: { SECRET_ID: secretId } }));
    expect(JSON.parse(r.value as string).password).toBe(pw.ns);
    const seen = vault.requests.slice(before);
    expect(seen.map((q) => q.path)).toEqual(['auth/approle/login', 'sys/internal/ui/mounts/kv/db', 'kv/data/db']);
    expect(seen.every((q) => q.namespace === 'team-ns/')).toBe(true);
    // The same path without the namespace is another mount: the root-namespace kv.
    const root = await provider().resolve(parseRef('vault://kv/etl/orders-db'), ctx());
    expect(root.version).toBe('3');
  });
});

describe('fromVault: rotate (KV v2 check-and-set)', () => {
  it('writes a new version with cas = the current version', async () => {
    const p = provider();
    const key = `rot/${generated(6)}`;
    kv.put(key, { username: 'etl', password: generated() }, { owner: 'data-platform' });
    const next = generated();
    const r = await p.rotate!(parseRef(`vault://kv/${key}#password`), next, ctx());
    expect(r.version).toBe('2');
    expect(JSON.parse(r.value as string)).toEqual({ username: 'etl', password: next });
    expect(r.metadata).toEqual({ owner: 'data-platform' });
    const stored = kv.versions(key)!;
    expect(stored.current).toBe(2);
    expect(stored.versions.get(2)!.data).toEqual({ username: 'etl', password: next });
  });

  it('rotates a whole secret given as JSON; creates a missing key with cas 0', async () => {
    const p = provider();
    const key = `rot/${generated(6)}`;
    const first = { password: generated() };
    expect((await p.rotate!(parseRef(`vault://kv/${key}`), JSON.stringify(first), ctx())).version).toBe('1');
    await expect(p.rotate!(parseRef(`vault://kv/${key}`), generated(), ctx())).rejects.toMatchObject({ code: 'SECRET_FORMAT' });
  });

  it('fails on a concurrent write instead of overwriting it (pinned version)', async () => {
    const p = provider();
    const key = `rot/${generated(6)}`;
    kv.put(key, { password: generated() });
    kv.put(key, { password: generated() }); // someone else wrote version 2
    const mine = generated();
    const err = await p.rotate!(parseRef(`vault://kv/${key}?version=1#password`), mine, ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR' });
    expect((err as Error).message).toContain('check-and-set failed');
    expect(errorText(err)).not.toContain(mine);
    expect(kv.versions(key)!.current).toBe(2);
  });

  it('refuses KV v1 mounts', async () => {
    await expect(provider().rotate!(parseRef('vault://legacy/etl/api#token'), generated(), ctx())).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
