// pgConfig against the private scram-sha-256 cluster: passwords are checked, so a wrong pairing fails.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pgConfig } from '../../src/adapters/pg.js';
import { createSecrets } from '../../src/client.js';
import { isAuthError } from '../../src/handles/isAuthError.js';
import { fromEnv } from '../../src/providers/fromEnv.js';

const cluster = inject('pgCluster');
const suffix = randomBytes(4).toString('hex');
const roles = { a: `etl_a_${suffix}`, b: `etl_b_${suffix}` };
const passwords = { a: randomBytes(18).toString('base64url'), b: randomBytes(18).toString('base64url') };
const superuser = { host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'postgres' };

beforeAll(async () => {
  const admin = new pg.Client(superuser);
  await admin.connect();
  await admin.query(`CREATE ROLE ${roles.a} LOGIN PASSWORD '${passwords.a}'`);
  await admin.query(`CREATE ROLE ${roles.b} LOGIN PASSWORD '${passwords.b}'`);
  await admin.end();
});
afterAll(async () => {
  const admin = new pg.Client(superuser);
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${roles.a}`);
  await admin.query(`DROP ROLE IF EXISTS ${roles.b}`);
  await admin.end();
});

function client(login: { username: string; password: string }) {
  const env: Record<string, string | undefined> = { PG_LOGIN: JSON.stringify(login) };
  const secrets = createSecrets({ environment: 'dev', providers: [fromEnv()], env, cache: false, logger: { level: 'error' } });
  return { env, secrets };
}

describe('pgConfig (pg against PostgreSQL with scram-sha-256)', () => {
  it('logs in with user and password from the credential, and after a rotation new connections use the new login while connections made with the old one are evicted', async () => {
    const { env, secrets } = client({ username: roles.a, password: passwords.a });
    const db = await pgConfig('env://PG_LOGIN', secrets);
    expect(db.config.user).toBe(roles.a);
    const pool = new pg.Pool({ host: cluster.host, port: cluster.port, database: 'postgres', max: 4, ...db.config });
    const detach = db.attach(pool);
    try {
      const busy = await pool.connect();
      const idle = await pool.connect();
      expect((await busy.query<{ u: string }>('select current_user as u')).rows[0]!.u).toBe(roles.a);
      idle.release();
      expect(pool.totalCount).toBe(2);
      expect(pool.idleCount).toBe(1);

      env['PG_LOGIN'] = JSON.stringify({ username: roles.b, password: passwords.b });
      await db.handle.refresh();
      // The idle connection made with the rotated credential is gone at once, the busy one stays until released.
      expect(pool.idleCount).toBe(0);
      expect(pool.totalCount).toBe(1);
      expect((await busy.query<{ u: string }>('select current_user as u')).rows[0]!.u).toBe(roles.a);
      busy.release();
      await new Promise((r) => setImmediate(r));
      expect(pool.totalCount).toBe(0);

      expect((await pool.query<{ u: string }>('select current_user as u')).rows[0]!.u).toBe(roles.b);
      expect(pool.idleCount).toBe(1);
    } finally {
      detach();
      await pool.end();
      await db.close();
      await secrets.close();
    }
  });

  it('the password is checked: a credential with a wrong password is refused (28P01), and withCredential retries once with the refreshed one', async () => {
    const { env, secrets } = client({ username: roles.a, password: randomBytes(18).toString('base64url') });
    const db = await pgConfig(secrets.handle('env://PG_LOGIN'), secrets);
    const pool = new pg.Pool({ host: cluster.host, port: cluster.port, database: 'postgres', ...db.config });
    db.attach(pool);
    try {
      await expect(pool.query('select 1')).rejects.toSatisfy(isAuthError);
      let calls = 0;
      const rows = await db.handle.withCredential(async () => {
        calls += 1;
        if (calls === 1) env['PG_LOGIN'] = JSON.stringify({ username: roles.a, password: passwords.a });
        return (await pool.query<{ u: string }>('select current_user as u')).rows;
      });
      expect(calls).toBe(2);
      expect(rows[0]!.u).toBe(roles.a);
    } finally {
      await pool.end();
      await db.close();
      await secrets.close();
    }
  });

  it('refuses a credential without username and password, without printing it', async () => {
    const value = randomBytes(18).toString('base64url');
    const { secrets } = client({ username: roles.a, password: passwords.a });
    const bad = createSecrets({ environment: 'dev', providers: [fromEnv()], env: { PG_LOGIN: JSON.stringify({ token: value }) }, cache: false });
    await expect(pgConfig('env://PG_LOGIN', bad)).rejects.toMatchObject({ code: 'SECRET_FORMAT', message: expect.not.stringContaining(value) });
    await bad.close();
    await secrets.close();
  });
});
