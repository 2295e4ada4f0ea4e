// Shared by the fleet suites: the machine's PostgreSQL (trust auth, db `test`) and unique names per test.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A table and channel no other test uses. */
export function uniqueNames(prefix = 'fleet'): { table: string; channel: string } {
  const id = randomBytes(5).toString('hex');
  return { table: `${prefix}_events_${id}`, channel: `${prefix}_ch_${id}` };
}

/** Drops the test's table (after the test), through its own short-lived connection. */
export async function dropTable(table: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
  } finally {
    await client.end();
  }
}
