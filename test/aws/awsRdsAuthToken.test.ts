import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { awsRdsAuthToken } from '../../src/aws/awsRdsAuthToken.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { AwsKeyRegistry } from '../fixtures/aws/keys.js';
import { verifyPresigned } from '../fixtures/aws/sigv4.js';
import { generated } from '../helpers.js';

const keys = new AwsKeyRegistry();
const lookup = (id: string) => keys.get(id);
const host = 'orders.cluster-abc123.eu-west-1.rds.amazonaws.com';

describe('awsRdsAuthToken: RDS IAM tokens through the real @aws-sdk/rds-signer, verified offline', () => {
  it('issues a presigned connect token whose SigV4 signature verifies and which expires 15 minutes after signing', async () => {
    const key = keys.longTerm();
    const redactor = createRedactor();
    const handle = awsRdsAuthToken({ hostname: host, port: 5432, username: 'etl_iam', region: 'eu-west-1', credentials: key, redactor });
    const secret = await handle.get();
    const token = secret.reveal();
    expect(token.startsWith(`${host}:5432/?`)).toBe(true);
    const now = Date.now();
    const ok = verifyPresigned(new URL(`https://${token}`), 'rds-db', lookup, now);
    expect([ok.params.get('Action'), ok.params.get('DBUser'), ok.params.get('X-Amz-Expires')]).toEqual(['connect', 'etl_iam', '900']);
    expect(ok.key.accessKeyId).toBe(key.accessKeyId);
    expect(Math.abs(ok.signedAt - now)).toBeLessThan(5000);
    expect(ok.expiresAt - ok.signedAt).toBe(900_000);
    expect(handle.expiresAt).toBe(ok.expiresAt);
    expect(secret.expiresAt?.getTime()).toBe(ok.expiresAt);
    // Expired at its end, and refused when any signed part is changed.
    expect(() => verifyPresigned(new URL(`https://${token}`), 'rds-db', lookup, ok.expiresAt)).toThrow(/expired/);
    expect(() => verifyPresigned(new URL(`https://${token.replace('DBUser=etl_iam', 'DBUser=admin')}`), 'rds-db', lookup, now)).toThrow(/signature/);
    expect(() => verifyPresigned(new URL(`https://${token.replace(`${host}:5432`, `${host}:5433`)}`), 'rds-db', lookup, now)).toThrow(/signature/);
    expect(redactor.redact(`password=${token}`)).not.toContain(ok.params.get('X-Amz-Signature')!);
    expect(String(secret)).not.toContain(token);
    await handle.close();
  });

  it('signs with session credentials (X-Amz-Security-Token) and never outlives them', async () => {
    const session = keys.session('arn:aws:sts::123456789012:assumed-role/etl/s', Date.now() + 10 * 60_000);
    const handle = awsRdsAuthToken({
      hostname: host,
      port: 5432,
      username: 'etl_iam',
      region: 'eu-west-1',
      credentials: async () => ({ ...session, expiration: new Date(session.expiresAt) }),
    });
    const token = (await handle.get()).reveal();
    const ok = verifyPresigned(new URL(`https://${token}`), 'rds-db', lookup, Date.now());
    expect(ok.params.get('X-Amz-Security-Token')).toBe(session.sessionToken);
    expect(handle.expiresAt).toBe(session.expiresAt);
    await handle.close();
  });

  it('rejects a bad port or missing region without echoing input', () => {
    expect(() => awsRdsAuthToken({ hostname: host, port: 0, username: 'u', region: 'eu-west-1' })).toThrow(/port must be/);
    expect(() => awsRdsAuthToken({ hostname: host, port: 5432, username: 'u', env: {} })).toThrow(/AWS_REGION/);
  });
});

describe('awsRdsAuthToken as pg’s password function', () => {
  const cluster = inject('pgCluster');
  const role = `etl_iam_${generated(4).toLowerCase().replace(/[^a-z0-9]/g, '')}`;
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: cluster.database });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('each new connection gets the current token (the database here accepts exactly the current one, as a stand-in for RDS)', async () => {
    // Each fetch signs with a new key, so each token differs.
    const handle = awsRdsAuthToken({ hostname: cluster.host, port: cluster.port, username: role, region: 'eu-west-1', credentials: async () => keys.longTerm() });
    let asked = 0;
    const password = () => {
      asked += 1;
      return handle.get().then((s) => s.reveal());
    };
    const accept = async (token: string) => admin.query(`ALTER ROLE ${role} PASSWORD ${admin.escapeLiteral(token)}`);
    const connect = async () => {
      const c = new pg.Client({ host: cluster.host, port: cluster.port, user: role, database: cluster.database, password });
      await c.connect();
      const { rows } = await c.query('select current_user as u');
      await c.end();
      return rows[0].u as string;
    };
    const first = (await handle.get()).reveal();
    await accept(first);
    expect(await connect()).toBe(role);
    const second = (await handle.refresh()).reveal();
    expect(second).not.toBe(first);
    await accept(second);
    expect(await connect()).toBe(role);
    expect(asked).toBe(2);
    expect(await password()).toBe(second);
    await handle.close();
  });
});
