import { ConfigError } from '../errors.js';

/** What {@link AuditQueryable.query} resolves to (a `pg` result has more; this is what is read). */
export interface AuditQueryResult {
  /** The rows the statement returned. */
  readonly rows: unknown[];
}

/**
 * What the PostgreSQL audit sink and verifier need of a `pg` pool (or client): `query` with
 * positional parameters. A `pg.Pool` fits; so does anything with the same method.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool: AuditQueryable = new pg.Pool({ connectionString: process.env.AUDIT_DATABASE_URL });
 * ```
 */
export interface AuditQueryable {
  /**
   * Runs one statement (several when `values` is absent: the simple protocol, one implicit
   * transaction). The sink passes its INSERT as `{ name, text, values }`, a named prepared
   * statement, as `pg` takes it.
   */
  query(text: string | { readonly name?: string; readonly text: string; readonly values?: unknown[] }, values?: unknown[]): Promise<AuditQueryResult>;
}

/** The default table of {@link postgresAuditSink}. */
export const DEFAULT_AUDIT_TABLE = 'connector_secrets_audit';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table name (`name` or `schema.name`, lower-case letters, digits and _), quoted for SQL. */
export function quotedTable(table: string): { sql: string; bare: string } {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => NAME.test(p))) {
    throw new ConfigError('the audit table must be a name of lower-case letters, digits and _ (optionally schema.name), at most 63 characters each');
  }
  return { sql: parts.map((p) => `"${p}"`).join('.'), bare: parts[parts.length - 1]! };
}

/**
 * Creates the audit table and its indexes when missing. Several writers may start at once:
 * `CREATE … IF NOT EXISTS` alone races on the catalog, so the statements run as one implicit
 * transaction under a transaction-scoped advisory lock keyed by the table name.
 */
export async function ensureAuditTable(db: AuditQueryable, table: string): Promise<void> {
  const { sql, bare } = quotedTable(table);
  const lockKey = `connector-secrets audit table ${table}`.replace(/'/g, '');
  await db.query(
    `SELECT pg_advisory_xact_lock(hashtext('${lockKey}'));
CREATE TABLE IF NOT EXISTS ${sql} (
  log_id text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz,
  kind text NOT NULL,
  identity text,
  environment text NOT NULL,
  ref text,
  action text,
  outcome text,
  line text NOT NULL,
  PRIMARY KEY (log_id, seq)
);
CREATE INDEX IF NOT EXISTS "${bare}_identity_ts" ON ${sql} (identity, ts);
CREATE INDEX IF NOT EXISTS "${bare}_ref_ts" ON ${sql} (ref, ts);
CREATE INDEX IF NOT EXISTS "${bare}_ts" ON ${sql} (ts);`,
  );
}
