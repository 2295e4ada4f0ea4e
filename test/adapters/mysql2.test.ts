// mysqlConfig against the machine's MariaDB: users with passwords, so the password in use is checked.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlConfig } from '../../src/adapters/mysql2.js';
import { createSecrets } from '../../src/client.js';
import { isAuthError } from '../../src/handles/isAuthError.js';
import { fromEnv } from '../../src/providers/fromEnv.js';

const suffix = randomBytes(4).toString('hex');
const users = { a: `etl_a_${suffix}`, b: `etl_b_${suffix}` };
const passwords = { a: randomBytes(18).toString('base64url'), b: randomBytes(18).toString('base64url') };
const root = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

beforeAll(async () => {
  const admin = await mysql.createConnection(root);
  for (const k of ['a', 'b'] as const) {
    await admin.query(`CREATE USER '${users[k]}'@'%' IDENTIFIED BY '${passwords[k]}'`);
    await admin.query(`CREATE USER '${users[k]}'@'localhost' IDENTIFIED BY '${passwords[k]}'`);
  }
  await admin.end();
});
afterAll(async () => {
  const admin = await mysql.createConnection(root);
  for (const k of ['a', 'b'] as const) {
    await admin.query(`DROP USER IF EXISTS '${users[k]}'@'%'`);
    await admin.query(`DROP USER IF EXISTS '${users[k]}'@'localhost'`);
  }
  await admin.end();
});

function client(login: { username: string; password: string }) {
  const env: Record<string, string | undefined> = { DB_LOGIN: JSON.stringify(login) };
  return { env, secrets: createSecrets({ environment: 'dev', providers: [fromEnv()], env, cache: false, logger: { level: 'error' } }) };
}

const whoami = async (pool: mysql.Pool) => {
  const [rows] = await pool.query<mysql.RowDataPacket[]>('select current_user() as u');
  return String(rows[0]!['u']).split('@')[0];
};

describe('mysqlConfig (mysql2 against MariaDB)', () => {
  it('new connections log in with the credential current at that moment; connections made with a rotated one are destroyed', async () => {
    const { env, secrets } = client({ username: users.a, password: passwords.a });
    const db = await mysqlConfig('env://DB_LOGIN', secrets);
    const pool = mysql.createPool({ host: '127.0.0.1', port: 3306, ...db.config, connectionLimit: 4 });
    const detach = db.attach(pool);
    try {
      expect(await whoami(pool)).toBe(users.a);
      const busy = await pool.getConnection();
      env['DB_LOGIN'] = JSON.stringify({ username: users.b, password: passwords.b });
      await db.handle.refresh();
      // The idle connection made as etl_a was destroyed: this query needs a new one, made as etl_b.
      expect(await whoami(pool)).toBe(users.b);
      const [rows] = await busy.query<mysql.RowDataPacket[]>('select current_user() as u');
      expect(String(rows[0]!['u'])).toContain(users.a);
      busy.release();
      // Released after the rotation: destroyed, not reused.
      const again = await pool.getConnection();
      expect(again.connection).not.toBe(busy.connection);
      const [mine] = await again.query<mysql.RowDataPacket[]>('select current_user() as u');
      expect(String(mine[0]!['u'])).toContain(users.b);
      again.release();
    } finally {
      detach();
      await pool.end();
      await db.close();
      await secrets.close();
    }
  });

  it('the password is checked: a wrong one is refused (1045) until the credential is refreshed through withCredential', async () => {
    const { env, secrets } = client({ username: users.a, password: randomBytes(18).toString('base64url') });
    const db = await mysqlConfig(secrets.handle('env://DB_LOGIN'), secrets);
    const pool = mysql.createPool({ host: '127.0.0.1', port: 3306, ...db.config });
    db.attach(pool);
    try {
      await expect(whoami(pool)).rejects.toSatisfy(isAuthError);
      let calls = 0;
      const user = await db.handle.withCredential(async () => {
        calls += 1;
        if (calls === 1) env['DB_LOGIN'] = JSON.stringify({ username: users.a, password: passwords.a });
        return whoami(pool);
      });
      expect({ calls, user }).toEqual({ calls: 2, user: users.a });
    } finally {
      await pool.end();
      await db.close();
      await secrets.close();
    }
  });
});
