import { ClientSecretCredential } from '@azure/identity';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { azureAccessToken, OSSRDBMS_SCOPE } from '../../src/azure/index.js';
import { startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';

/**
 * Azure Database for PostgreSQL with Microsoft Entra authentication, through pg: the database
 * user is the Entra principal and its password is a current access token for
 * `https://ossrdbms-aad.database.windows.net/.default`. The private scram-sha-256 cluster plays
 * the server: whenever the Entra double issues a token for the app and that scope, the role's
 * password becomes that token (stricter than Azure, which accepts any live token: here a
 * replaced token stops working). The pool asks the handle for the password on every new
 * connection, so no database password is stored anywhere.
 */
const cluster = inject('pgCluster');
const DB_USER = `orders-sync-${randomBytes(3).toString('hex')}`;
const database = `azure_entra_${randomBytes(4).toString('hex')}`;
let d: AzureDoubles;
let admin: pg.Client;
const superuser = (dbName: string) => ({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: dbName });

beforeAll(async () => {
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  await root.query(`CREATE ROLE "${DB_USER}" LOGIN`);
  await root.end();
  admin = new pg.Client(superuser(database));
  await admin.connect();
  d = await startAzureDoubles(inject('azureTls'));
});

afterAll(async () => {
  await d?.close();
  await admin?.end();
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await root.query(`DROP ROLE IF EXISTS "${DB_USER}"`);
  await root.end();
});

describe('Entra authentication for PostgreSQL with pg: the access token is the password', () => {
  it('new connections log in with the current token; a replaced token is refused', async () => {
    const app = d.entra.addClientSecret();
    d.entra.onTokenIssued = async (clientId, scope, token) => {
      if (clientId === app.clientId && scope === OSSRDBMS_SCOPE) await admin.query(`ALTER ROLE "${DB_USER}" PASSWORD ${admin.escapeLiteral(token)}`);
    };
    const token = azureAccessToken({
      scopes: [OSSRDBMS_SCOPE],
      credential: () => new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, { authorityHost: d.entra.url, disableInstanceDiscovery: true }),
    });
    const pool = new pg.Pool({ host: cluster.host, port: cluster.port, database, user: DB_USER, password: async () => (await token.get()).reveal(), max: 2 });
    try {
      // The stand-in sets the role's password when the token is issued, and PostgreSQL reads the
      // password verifier when authentication starts: hold a token before connecting (Azure checks
      // the token itself and has no such ordering).
      await token.get();
      expect((await pool.query('SELECT current_user AS u')).rows[0].u).toBe(DB_USER);
      const first = (await token.get()).reveal();
      await token.refresh();
      expect((await token.get()).reveal()).not.toBe(first);
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
      d.entra.onTokenIssued = undefined;
      await pool.end();
      await token.close();
    }
  });
});
