import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gcpAccessToken } from '../../src/gcp/index.js';
import { startGoogleDoubles, type GoogleDoubles } from '../fixtures/gcp/index.js';

/**
 * Cloud SQL IAM database authentication with pg: the database user is the service account
 * (without `.gserviceaccount.com`) and its password is a current OAuth access token. Here the
 * private scram-sha-256 cluster plays Cloud SQL: whenever the token double issues a token for the
 * service account, the role's password becomes that token (stricter than Cloud SQL, which accepts
 * any live token: here a replaced token stops working). The pool asks the handle for the password
 * on every new connection, so no database password is stored anywhere.
 */
const cluster = inject('pgCluster');
const PRINCIPAL = `etl-loader@test-project.iam.gserviceaccount.com`;
const DB_USER = PRINCIPAL.replace(/\.gserviceaccount\.com$/, '');
const database = `gcp_iam_${randomBytes(4).toString('hex')}`;
let doubles: GoogleDoubles;
let admin: pg.Client;
const superuser = (dbName: string) => ({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: dbName });

beforeAll(async () => {
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  await root.query(`DROP ROLE IF EXISTS "${DB_USER}"`);
  await root.query(`CREATE ROLE "${DB_USER}" LOGIN`);
  await root.end();
  admin = new pg.Client(superuser(database));
  await admin.connect();
  doubles = await startGoogleDoubles();
  doubles.onTokenIssued = async (principal, token) => {
    if (principal === PRINCIPAL) await admin.query(`ALTER ROLE "${DB_USER}" PASSWORD ${admin.escapeLiteral(token)}`);
  };
});

afterAll(async () => {
  await doubles?.close();
  await admin?.end();
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await root.query(`DROP ROLE IF EXISTS "${DB_USER}"`);
  await root.end();
});

describe('Cloud SQL IAM login with pg: the access token is the password', () => {
  it('new connections log in with the current token; a replaced token is refused', async () => {
    const key = doubles.serviceAccount(PRINCIPAL);
    const token = gcpAccessToken({ credentials: key, endpoints: { token: doubles.tokenUrl }, scopes: ['https://www.googleapis.com/auth/sqlservice.login'] });
    const pool = new pg.Pool({ host: cluster.host, port: cluster.port, database, user: DB_USER, password: async () => (await token.get()).reveal(), max: 2 });
    try {
      // The stand-in sets the role's password when the token is issued, and PostgreSQL reads
      // the password verifier when authentication starts: hold a token before connecting (Cloud
      // SQL checks the token itself and has no such ordering).
      await token.get();
      expect((await pool.query('SELECT current_user AS u')).rows[0].u).toBe(DB_USER);
      const first = (await token.get()).reveal();
      await token.refresh();
      // A connection opened now gets the new token from the password function.
      const client = await pool.connect();
      try {
        expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      } finally {
        client.release();
      }
      const stale = new pg.Client({ host: cluster.host, port: cluster.port, database, user: DB_USER, password: first });
      const err = await stale.connect().then(() => undefined, (e: { code?: string }) => e);
      await stale.end().catch(() => {});
      expect(err?.code).toBe('28P01');
    } finally {
      await pool.end();
      await token.close();
    }
  });
});
