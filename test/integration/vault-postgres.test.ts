import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { parseRef } from '../../src/ref/parseRef.js';
import type { Lease, SecretProvider } from '../../src/provider.js';
import { fromVault } from '../../src/vault/index.js';
import { startVaultServer, type DatabaseEngine, type VaultServer } from '../fixtures/vault-server/index.js';
import { resolveContext } from '../vault/helpers.js';

const cluster = inject('pgCluster');
const database = `vault_it_${randomBytes(4).toString('hex')}`;
let admin: pg.Client;
let vault: VaultServer;
let db: DatabaseEngine;
let token: string;
const providers: SecretProvider[] = [];

const CREATE = [
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
  `GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`,
];

beforeAll(async () => {
  const root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'postgres' });
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  await root.end();
  admin = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database });
  await admin.connect();
  await admin.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL)');
  await admin.query('INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 25) g');

  vault = await startVaultServer({ sweepIntervalMs: 100 });
  db = vault.enableDatabase('database', { host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database });
  db.addRole('etl-reader', { creationStatements: CREATE, defaultTtlMs: 60_000, maxTtlMs: 120_000 });
  db.addRole('short', { creationStatements: CREATE, defaultTtlMs: 4_000, maxTtlMs: 6_000 });
  db.addRole('tiny', { creationStatements: CREATE, defaultTtlMs: 1_000, maxTtlMs: 1_000 });
  vault.policy('etl', { 'database/creds/*': ['read'], 'sys/leases/renew': ['update'], 'sys/leases/revoke': ['update'] });
  token = vault.createToken({ policies: ['etl'] }).id;
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await vault?.close();
  await admin?.end();
  const root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'postgres' });
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await root.end();
});

function provider(): SecretProvider {
  const p = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://T' }, retry: { baseDelayMs: 5 } });
  providers.push(p);
  return p;
}
const ctx = () => resolveContext({ env: { T: token } });

async function issue(p: SecretProvider, role: string) {
  const r = await p.resolve(parseRef(`vault://database/creds/${role}`), ctx());
  return { ...r, creds: JSON.parse(r.value as string) as { username: string; password: string } };
}

/** Logs in as the user with a password and counts the orders, or returns the error. */
async function countOrders(creds: { username: string; password: string }): Promise<number | { code?: string }> {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: creds.username, password: creds.password, database });
  try {
    await c.connect();
    const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM orders');
    return Number(rows[0]!.n);
  } catch (err) {
    return err as { code?: string };
  } finally {
    await c.end().catch(() => {});
  }
}

const roleExists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
const validUntil = async (name: string) => (await admin.query<{ v: Date }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [name])).rows[0]?.v;

describe('Vault database secrets engine on a real PostgreSQL (scram-sha-256)', () => {
  it('the private cluster checks passwords', async () => {
    expect(await countOrders({ username: cluster.user, password: cluster.password })).toBe(25);
    expect(await countOrders({ username: cluster.user, password: randomBytes(12).toString('hex') })).toMatchObject({ code: '28P01' });
  });

  it('database/creds issues a leased PostgreSQL user that can log in and read', async () => {
    const p = provider();
    const before = Date.now();
    const r = await issue(p, 'etl-reader');
    expect(r.lease).toMatchObject({ ttlMs: 60_000, renewable: true });
    expect(r.lease!.id).toMatch(/^database\/creds\/etl-reader\//);
    expect(r.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 59_000);
    expect(r.creds.username).toMatch(/^v-token-etl-read-/);
    expect(await roleExists(r.creds.username)).toBe(true);
    const until = await validUntil(r.creds.username);
    expect(Math.abs(until!.getTime() - r.expiresAt!.getTime())).toBeLessThan(2_000);
    expect(await countOrders(r.creds)).toBe(25);
  });

  it('renew moves VALID UNTIL; a renewal capped by max TTL reports maxTtlMs', async () => {
    const p = provider();
    const r = await issue(p, 'short');
    const first = await validUntil(r.creds.username);
    await new Promise((res) => setTimeout(res, 1_100));
    const renewed = await p.renew!(r.lease!, ctx());
    expect(renewed).toMatchObject({ id: r.lease!.id, renewable: true });
    expect(renewed.ttlMs).toBe(4_000);
    expect(renewed.maxTtlMs).toBeUndefined();
    expect((await validUntil(r.creds.username))!.getTime()).toBeGreaterThan(first!.getTime());
    await new Promise((res) => setTimeout(res, 1_500));
    const capped: Lease = await p.renew!(renewed, ctx());
    expect(capped.ttlMs).toBeLessThan(4_000);
    expect(capped.maxTtlMs).toBeGreaterThan(5_000);
    expect(capped.maxTtlMs).toBeLessThan(7_500);
    expect(await countOrders(r.creds)).toBe(25);
  });

  it('revoke drops the role; the old password is refused', async () => {
    const p = provider();
    const r = await issue(p, 'etl-reader');
    expect(await countOrders(r.creds)).toBe(25);
    await p.revoke!(r.lease!, ctx());
    expect(await roleExists(r.creds.username)).toBe(false);
    expect(await countOrders(r.creds)).toMatchObject({ code: '28P01' });
    // Renewing a revoked lease: SECRET_EXPIRED; revoking it again is fine.
    await expect(p.renew!(r.lease!, ctx())).rejects.toMatchObject({ code: 'SECRET_EXPIRED' });
    await expect(p.revoke!(r.lease!, ctx())).resolves.toBeUndefined();
  });

  it('an expired lease is revoked by Vault: the role is dropped', async () => {
    const p = provider();
    const r = await issue(p, 'tiny');
    expect(await countOrders(r.creds)).toBe(25);
    await vi.waitFor(async () => expect(await roleExists(r.creds.username)).toBe(false), { timeout: 5_000, interval: 100 });
    expect(await countOrders(r.creds)).toMatchObject({ code: '28P01' });
  });

  it("closing a provider that logged in revokes its token, and Vault revokes the token's leases", async () => {
    const approle = vault.enableAppRole(`approle-${randomBytes(3).toString('hex')}`);
    const roleId = approle.addRole('etl', { policies: ['etl'] });
    const p = fromVault({ address: vault.url, auth: { method: 'approle', mount: approle.mountPath, roleId, secretId: 'env://SID' } });
    const c = resolveContext({ env: { SID: approle.newSecretId(roleId) } });
    const users = await Promise.all(
      [0, 1].map(async () => JSON.parse((await p.resolve(parseRef('vault://database/creds/etl-reader'), c)).value as string) as { username: string; password: string }),
    );
    for (const u of users) expect(await countOrders(u)).toBe(25);
    await p.close!();
    for (const u of users) {
      expect(await roleExists(u.username)).toBe(false);
      expect(await countOrders(u)).toMatchObject({ code: '28P01' });
    }
  });

  it('an unknown role is SECRET_NOT_FOUND', async () => {
    await expect(provider().resolve(parseRef('vault://database/creds/nope'), ctx())).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });
});
