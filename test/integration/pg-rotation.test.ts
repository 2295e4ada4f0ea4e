import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { pgConfig } from '../../src/adapters/pg.js';
import { createSecrets, type SecretsClient } from '../../src/client.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { rotatePostgresPassword } from '../../src/rotation/postgres.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';

/**
 * Database password rotation against the private scram-sha-256 cluster (passwords are really
 * checked), with a pool running queries the whole time: the credential lives in a real local
 * store, the pool is wired with pgConfig(...).attach(pool), and every failed query is counted.
 */
const cluster = inject('pgCluster');
const suffix = randomBytes(4).toString('hex');
const database = `rot_${suffix}`;
const [SINGLE, ROLE_A, ROLE_B] = [`rot_single_${suffix}`, `rot_a_${suffix}`, `rot_b_${suffix}`];
const superuser = (db: string) => ({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: db });
const connection = { host: cluster.host, port: cluster.port, database };
let admin: pg.Client;

beforeAll(async () => {
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  for (const role of [SINGLE, ROLE_A, ROLE_B]) await root.query(`CREATE ROLE ${role} LOGIN`);
  await root.end();
  admin = new pg.Client(superuser(database));
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  for (const role of [SINGLE, ROLE_A, ROLE_B]) await root.query(`DROP ROLE IF EXISTS ${role}`);
  await root.end();
});

let dir: string;
let clock: TestClock;
let secrets: SecretsClient;
const REF = 'local://orders-db';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-pgrot-'));
  clock = createTestClock({ now: Date.now() });
});
afterEach(async () => {
  await secrets?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Sets the role's first password on the server and in a fresh local store, and makes a client on it. */
async function start(user: string): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  await admin.query(`ALTER ROLE ${user} PASSWORD ${admin.escapeLiteral(password)}`);
  const store = fromLocalStore({ path: join(dir, 'dev.enc.json'), key: randomBytes(32), environment: 'dev' });
  await store.init();
  await store.set('orders-db', JSON.stringify({ username: user, password }));
  secrets = createSecrets({ environment: 'dev', providers: [store], clock });
  return password;
}

/** Logs in once; resolves to the SQLSTATE of a refusal, or 'ok'. */
async function login(user: string, password: string): Promise<string> {
  const client = new pg.Client({ ...connection, user, password });
  try {
    await client.connect();
    await client.query('select 1');
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A pool of 4 kept-open connections with 4 workers querying back to back until stopped. */
async function busyPool() {
  const db = await pgConfig(REF, secrets);
  const pool = new pg.Pool({ ...connection, ...db.config, max: 4, idleTimeoutMillis: 0 });
  const detach = db.attach(pool);
  const stats = { ok: 0, failed: 0, connects: 0, users: new Map<string, number>() };
  pool.on('connect', () => void (stats.connects += 1));
  let running = true;
  const workers = Array.from({ length: 4 }, async () => {
    while (running) {
      try {
        const { rows } = await pool.query('select current_user as u');
        stats.ok += 1;
        const u = rows[0].u as string;
        stats.users.set(u, (stats.users.get(u) ?? 0) + 1);
      } catch {
        stats.failed += 1;
      }
    }
  });
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 5));
  };
  return {
    stats,
    until,
    async stop() {
      running = false;
      await Promise.all(workers);
      detach();
      await pool.end();
      await db.close();
    },
  };
}

describe('PostgreSQL password rotation under load (scram-sha-256)', () => {
  it("'single': ALTER ROLE, stored, pool reconnects with the new password, zero failed queries, old password refused", async () => {
    const old = await start(SINGLE);
    const load = await busyPool();
    await load.until(() => load.stats.ok >= 200 && load.stats.connects === 4);

    const result = await rotatePostgresPassword(secrets, REF, { strategy: 'single', admin, connection });
    expect(result).toMatchObject({ previousVersion: '1', version: '2' });
    const okAtRotation = load.stats.ok;
    // Every connection made with the old password is replaced (4 new logins), and queries go on.
    await load.until(() => load.stats.connects >= 8 && load.stats.ok >= okAtRotation + 200);
    await load.stop();

    expect(load.stats.failed).toBe(0);
    expect(await login(SINGLE, old)).toBe('28P01');
    const stored = JSON.parse((await secrets.get(REF)).reveal()) as { username: string; password: string };
    expect(stored.username).toBe(SINGLE);
    expect(stored.password).not.toBe(old);
    expect(await login(SINGLE, stored.password)).toBe('ok');
  });

  it("'alternating': flips to the other role with a fresh password; the first works until the overlap ends; zero failed queries", async () => {
    const oldA = await start(ROLE_A);
    await admin.query(`ALTER ROLE ${ROLE_B} PASSWORD NULL`);
    const load = await busyPool();
    await load.until(() => load.stats.ok >= 200 && load.stats.connects === 4);

    const result = await rotatePostgresPassword(secrets, REF, { strategy: 'alternating', roles: [ROLE_A, ROLE_B], admin, connection, overlapMs: 60_000 });
    await load.until(() => (load.stats.users.get(ROLE_B) ?? 0) >= 200 && load.stats.connects >= 8);
    await load.stop();
    expect(load.stats.failed).toBe(0);
    const stored = JSON.parse((await secrets.get(REF)).reveal()) as { username: string; password: string };
    expect(stored.username).toBe(ROLE_B);
    expect(await login(ROLE_B, stored.password)).toBe('ok');

    // Inside the overlap the role left behind still logs in; after it, its password is gone.
    expect(await login(ROLE_A, oldA)).toBe('ok');
    await clock.advance(60_000);
    expect(await result.retired).toBe(true);
    expect(await login(ROLE_A, oldA)).toBe('28P01');
  });

  it('a login that fails verification puts the server and the store back (single)', async () => {
    const old = await start(SINGLE);
    // Verification connects to a database that does not exist: the new login cannot be checked.
    const err = await rotatePostgresPassword(secrets, REF, { strategy: 'single', admin, connection: { ...connection, database: `${database}_missing` } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROTATION_FAILED', rolledBack: true });
    expect(await login(SINGLE, old)).toBe('ok');
    expect(JSON.parse((await secrets.get(REF)).reveal())).toMatchObject({ username: SINGLE, password: old });
  });
});
