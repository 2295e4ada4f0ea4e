import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The loopback PostgreSQL of the test machine (trust auth, database `test`). */
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A pool on the test database. */
export function testPool(max = 4): pg.Pool {
  return new pg.Pool({ connectionString: PG_URL, max });
}

/** A table name no other test uses. */
export function uniqueTable(): string {
  return `audit_t_${randomBytes(6).toString('hex')}`;
}

/** The rows of a table in chain order. */
export async function rowsOf(pool: pg.Pool, table: string): Promise<{ log_id: string; seq: string; line: string; kind: string; identity: string | null; ref: string | null; action: string | null; outcome: string | null; ts: Date | null }[]> {
  const r = await pool.query(`SELECT log_id, seq::text AS seq, line, kind, identity, ref, action, outcome, ts FROM "${table}" ORDER BY log_id, seq + 0`);
  return r.rows;
}
