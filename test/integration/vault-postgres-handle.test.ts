import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { createSecrets } from '../../src/client.js';
import { isAuthError } from '../../src/handles/isAuthError.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { fromVault } from '../../src/vault/index.js';
import { startVaultServer, type DatabaseEngine, type VaultServer } from '../fixtures/vault-server/index.js';
import { resolveContext } from '../vault/helpers.js';

/**
 * The end-to-end scenario: a connector reads PostgreSQL through a pg pool whose login
 * comes from a Vault dynamic-credential handle (4 s TTL, 12 s max TTL), and a static KV v2
 * password is rotated under a running connector.
 */
const cluster = inject('pgCluster');
const database = `vault_handle_${randomBytes(4).toString('hex')}`;
const Creds = z.object({ username: z.string(), password: z.string() });
type Creds = z.infer<typeof Creds>;
let admin: pg.Client;
let vault: VaultServer;
let db: DatabaseEngine;
let token: string;

const superuser = (dbName: string) => ({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: dbName });

beforeAll(async () => {
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  await root.end();
  admin = new pg.Client(superuser(database));
  await admin.connect();
  await admin.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL)');
  await admin.query('INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 40) g');
  vault = await startVaultServer({ sweepIntervalMs: 100 });
  db = vault.enableDatabase('database', superuser(database));
  db.addRole('etl-pool', {
    creationStatements: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      `GRANT SELECT ON orders TO "{{name}}";`,
    ],
    defaultTtlMs: 4_000,
    maxTtlMs: 12_000,
  });
  vault.enableKv('kv', 2);
  vault.policy('etl', {
    'database/creds/*': ['read'],
    'sys/leases/renew': ['update'],
    'sys/leases/revoke': ['update'],
    'kv/data/etl/*': ['read', 'create', 'update'],
  });
  token = vault.createToken({ policies: ['etl'], ttlMs: 3_600_000 }).id;
});

afterAll(async () => {
  await vault?.close();
  await admin?.end();
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await root.query(`DROP ROLE IF EXISTS etl_static`);
  await root.end();
});

const roleExists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;

async function login(creds: Creds): Promise<{ code?: string } | undefined> {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: creds.username, password: creds.password, database });
  try {
    await c.connect();
    return undefined;
  } catch (err) {
    return err as { code?: string };
  } finally {
    await c.end().catch(() => {});
  }
}

const client = () =>
  createSecrets({
    environment: 'dev',
    providers: [fromVault({ address: vault.url, auth: { method: 'token', token: 'env://VAULT_TOKEN' }, retry: { baseDelayMs: 20 } })],
    env: { VAULT_TOKEN: token },
  });

describe('a pg pool on a Vault dynamic-credential handle', () => {
  it('queries run for ~20 s across renewals and a replacement at max TTL without one failure; close() revokes everything', async () => {
    const secrets = client();
    const creds = secrets.handle('vault://database/creds/etl-pool', { schema: Creds });
    const renewals: number[] = [];
    creds.on('renewed', (e) => renewals.push(e.expiresAt));
    const pools: pg.Pool[] = [];
    const makePool = (c: Creds) => {
      const pool = new pg.Pool({ host: cluster.host, port: cluster.port, database, user: c.username, password: c.password, max: 2 });
      pool.on('error', () => {});
      pools.push(pool);
      return pool;
    };
    const held: Creds[] = [(await creds.get()).reveal()];
    let pool = makePool(held[0]!);
    const rotations: string[] = [];
    creds.onRotate((next, previous) => {
      held.push(next.reveal());
      rotations.push(`${previous.reveal().username} -> ${next.reveal().username}`);
      const old = pool;
      pool = makePool(next.reveal());
      // In-flight queries on the old pool finish; its connections are then closed.
      void old.end().catch(() => {});
    });

    let ok = 0;
    const failures: unknown[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const { rows } = await creds.withCredential(() => pool.query<{ n: string }>('SELECT count(*) AS n FROM orders'));
        expect(Number(rows[0]!.n)).toBe(40);
        ok++;
      } catch (err) {
        failures.push(err);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(rotations.length).toBeGreaterThanOrEqual(1);
    expect(db.issued.length).toBe(rotations.length + 1);

    await creds.close();
    await secrets.close();
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    // Leases the handle held were revoked on close; older ones were revoked by Vault at their max TTL.
    await vi.waitFor(async () => {
      for (const user of db.issued) expect(await roleExists(user.username), user.username).toBe(false);
    }, { timeout: 5_000, interval: 100 });
    expect(vault.leases.all().every((l) => l.revoked)).toBe(true);
    // Every password the pool ever used is refused now.
    expect(held.map((c) => c.username)).toEqual(db.issued.map((u) => u.username));
    for (const c of held) expect(await login(c), c.username).toMatchObject({ code: '28P01' });
    const first = db.issued[0]!;
    const lease = vault.leases.all().find((l) => l.id === first.leaseId)!;
    expect(lease.renewals).toBeGreaterThanOrEqual(2);
  }, 45_000);

  it('an old password is refused after close()', async () => {
    const secrets = client();
    const creds = secrets.handle('vault://database/creds/etl-pool', { schema: Creds });
    const held = (await creds.get()).reveal();
    expect(await login(held)).toBeUndefined();
    await creds.close();
    await secrets.close();
    expect(await roleExists(held.username)).toBe(false);
    expect(await login(held)).toMatchObject({ code: '28P01' });
  });
});

describe('a static KV v2 password rotated under a running connector', () => {
  it('withCredential recovers from the authentication failure with one refresh and one retry', async () => {
    const first = randomBytes(18).toString('base64url');
    const second = randomBytes(18).toString('base64url');
    await admin.query(`CREATE ROLE etl_static LOGIN PASSWORD '${first}'`);
    await admin.query(`GRANT SELECT ON orders TO etl_static`);
    const vaultProvider = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://VAULT_TOKEN' } });
    const ctx = resolveContext({ env: { VAULT_TOKEN: token } });
    await vaultProvider.rotate!(parseRef('vault://kv/etl/static-db'), JSON.stringify({ username: 'etl_static', password: first }), ctx);

    const secrets = client();
    const creds = secrets.handle('vault://kv/etl/static-db', { schema: Creds });
    const attempts: string[] = [];
    const connect = async (c: Creds) => {
      attempts.push(c.password === first ? 'first' : c.password === second ? 'second' : 'other');
      const conn = new pg.Client({ host: cluster.host, port: cluster.port, database, user: c.username, password: c.password });
      try {
        await conn.connect();
        const { rows } = await conn.query<{ n: string }>('SELECT count(*) AS n FROM orders');
        return Number(rows[0]!.n);
      } finally {
        await conn.end().catch(() => {});
      }
    };
    expect(await creds.withCredential((s) => connect(s.reveal()))).toBe(40);

    // The owner rotates: the database first, then Vault (a new KV v2 version, check-and-set).
    await admin.query(`ALTER ROLE etl_static PASSWORD '${second}'`);
    const written = await vaultProvider.rotate!(parseRef('vault://kv/etl/static-db#password'), second, ctx);
    expect(written.version).toBe('2');

    // The handle still holds the old password: the login fails (28P01), one refresh, one retry.
    const errors: unknown[] = [];
    const n = await creds.withCredential((s) => connect(s.reveal()).catch((err: unknown) => {
      errors.push(err);
      throw err;
    }));
    expect(n).toBe(40);
    expect(attempts).toEqual(['first', 'first', 'second']);
    expect(errors).toHaveLength(1);
    expect(isAuthError(errors[0])).toBe(true);
    expect((errors[0] as { code?: string }).code).toBe('28P01');
    expect((await creds.get()).version).toBe('2');

    await creds.close();
    await secrets.close();
    await vaultProvider.close!();
  });
});
