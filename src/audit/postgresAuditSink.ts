import { createHash } from 'node:crypto';
import { AuditWriteError, ConfigError } from '../errors.js';
import type { AuditEvent, AuditHitSummary, AuditSink } from './event.js';
import { GroupCommit } from './groupCommit.js';
import { DEFAULT_AUDIT_TABLE, ensureAuditTable, quotedTable, type AuditQueryable } from './pgTable.js';
import { GENESIS, checkAuditEvent, checkHitSummary, formatLine, macKey, newLogId, recordOf, type AuditLineBody } from './record.js';

/**
 * Options of {@link postgresAuditSink}.
 *
 * @example
 * ```ts
 * postgresAuditSink({ pool, hmacKey: process.env.AUDIT_HMAC_KEY!, table: 'etl_audit' });
 * ```
 */
export interface PostgresAuditSinkOptions {
  /** A `pg.Pool` (or anything with its `query(text, values)`); the sink never ends it. */
  readonly pool: AuditQueryable;
  /** The HMAC-SHA256 key (at least 16 bytes; a string is used as its UTF-8 bytes). Keep it away from the database's writers. */
  readonly hmacKey: string | Uint8Array;
  /**
   * The table (`name` or `schema.name`), created with its indexes on first write when missing.
   * @default 'connector_secrets_audit'
   */
  readonly table?: string;
  /**
   * Whether the sink creates the table when it is missing. Turn it off when the writers' role
   * may only INSERT (create the table once with `ensureAuditTable` rights, or the SQL in the docs).
   * @default true
   */
  readonly createTable?: boolean;
  /**
   * Whether each INSERT waits for PostgreSQL to flush its commit to disk (`synchronous_commit`
   * as the server sets it, `on` by default). `false` commits each batch with
   * `synchronous_commit = off` (for the sink's INSERTs only): an access returns once its row is
   * committed in the server's memory, which survives the writer being killed and the server
   * process crashing, but not the database host losing power or its operating system crashing
   * within about three `wal_writer_delay`s (600 ms by default) — the same promise as
   * `fileAuditSink` without `fsync`. Committed rows are never corrupted or reordered either way.
   * @default true
   */
  readonly durable?: boolean;
  /**
   * The most records one INSERT takes; the rest wait, in order, for the next one.
   * @default 4096
   */
  readonly maxBatch?: number;
  /**
   * The clock of the checkpoint's timestamp, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** A PostgreSQL audit sink: an {@link AuditSink} with the id of the chain it writes. */
export interface PostgresAuditSink extends AuditSink {
  /** The log id of this writer's chain (the `log_id` column of its rows). */
  readonly logId: string;
  /** The table it writes. */
  readonly table: string;
  /** Writes the last batch and the signed checkpoint row; later writes fail. The pool is not ended. */
  close(): Promise<void>;
}

/** A record queued for the table: its body, its line and its columns. */
interface Row {
  readonly body: AuditLineBody;
  readonly seq: number;
  readonly text: string;
}

/**
 * Writes the same HMAC-chained records as `fileAuditSink` into a PostgreSQL table, so a fleet of
 * writers keeps one central audit trail. Each sink is one chain: a fresh random log id, `seq`
 * from 1 and `prev` from 64 zeros, the line's exact bytes (as `fileAuditSink` writes them,
 * without the newline) in the `line` column, and the columns `log_id`, `seq`, `ts`, `kind`,
 * `identity`, `environment`, `ref`, `action`, `outcome` copied out of it for queries (the
 * verifier trusts only `line`). Closing adds a signed checkpoint row counting the chain's
 * records; a chain without one was cut short, or its writer did not close (killed, crashed).
 *
 * Group commit: records that arrive while an INSERT is in flight go together in the next one,
 * one multi-row INSERT per batch, in order; each caller waits for the INSERT that holds its
 * record, and a failed INSERT fails every record of its batch (so under
 * `auditFailure: 'fail-closed'` those accesses are denied). A failed INSERT breaks the sink for
 * good, as a failed file write does, so the chain never skips a line: make a new client.
 *
 * The table is created (with its indexes) on the first write when missing, safely when many
 * writers start at once. {@link verifyPostgresAuditLog} and
 * `connector-secrets audit verify --postgres URL` check every chain of the table.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.AUDIT_DATABASE_URL });
 * const secrets = createSecrets({
 *   environment: 'prod',
 *   identity: 'orders-sync',
 *   providers,
 *   audit: postgresAuditSink({ pool, hmacKey: await readFile('/run/keys/audit.key', 'utf8') }),
 * });
 * ```
 */
export function postgresAuditSink(options: PostgresAuditSinkOptions): PostgresAuditSink {
  if (typeof options?.pool?.query !== 'function') throw new ConfigError('postgresAuditSink needs { pool } (a pg.Pool or anything with its query method)');
  const key = macKey(options.hmacKey);
  const table = options.table ?? DEFAULT_AUDIT_TABLE;
  const { sql } = quotedTable(table);
  const pool = options.pool;
  const now = options.now ?? Date.now;
  const logId = newLogId();
  // One statement, so one implicit transaction: set_config(..., true) is SET LOCAL for it alone.
  const relaxed = options.durable === false ? `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) ` : '';
  const insert =
    `${relaxed}INSERT INTO ${sql} (log_id, seq, ts, kind, identity, environment, ref, action, outcome, line) ` +
    `SELECT $1, u.* FROM ${options.durable === false ? 'relaxed, ' : ''}` +
    `unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) AS u`;
  // A named statement: each connection parses and plans the INSERT once, not per batch. Named by
  // its text's hash (PostgreSQL keeps 63 bytes of a name; two tables must not share one).
  const statementName = `connector_secrets_audit_${createHash('sha256').update(insert).digest('hex').slice(0, 24)}`;

  let ready: Promise<void> | undefined;
  /** The head of the formatted chain: records are signed as they are queued, in order. */
  let head = { seq: 0, mac: GENESIS };
  let owner: { identity: string | null; environment: string } | undefined;
  let count = 0;
  let wroteAny = false;
  let broken: unknown;
  let closing = false;
  let closed: Promise<void> | undefined;

  const fail = (message: string, cause?: unknown) => new AuditWriteError(`audit table ${table}: ${message}`, { cause });

  const row = (body: AuditLineBody): Row => {
    owner ??= recordOf(body);
    const seq = head.seq + 1;
    const { text, mac } = formatLine(key, logId, seq, head.mac, body);
    head = { seq, mac };
    return { body, seq, text: text.slice(0, -1) };
  };

  /** One INSERT of the whole batch; a failure breaks the sink (the rows after it were signed on top of it). */
  const insertRows = async (rows: readonly Row[]): Promise<void> => {
    if (broken !== undefined) throw fail('an earlier INSERT failed; the sink is broken', broken);
    try {
      if (options.createTable !== false) await (ready ??= ensureAuditTable(pool, table));
      const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
      for (const r of rows) {
        const c = columnsOf(r.body);
        cols[0]!.push(r.seq);
        cols[1]!.push(ISO.test(c.ts) ? c.ts : null);
        cols[2]!.push(c.kind);
        cols[3]!.push(c.identity);
        cols[4]!.push(c.environment);
        cols[5]!.push(c.ref);
        cols[6]!.push(c.action);
        cols[7]!.push(c.outcome);
        cols[8]!.push(r.text);
      }
      await pool.query({ name: statementName, text: insert, values: [logId, ...cols] });
      wroteAny = true;
    } catch (err) {
      broken = err;
      // A failed table creation is retried by no one: the sink is broken either way.
      throw fail(`INSERT of ${rows.length} record(s) failed`, err);
    }
  };

  const records = new GroupCommit<Row>(async (batch) => {
    await insertRows(batch);
    count += batch.length;
  }, options.maxBatch);

  /** Queues a checked record; what the reader would refuse is never written (the sink stays usable). */
  const push = (body: AuditLineBody | string): Promise<void> => {
    if (typeof body === 'string') return Promise.reject(fail(`not written: ${body}`));
    if (closing) return Promise.reject(fail('the sink was closed'));
    if (broken !== undefined) return Promise.reject(fail('an earlier INSERT failed; the sink is broken', broken));
    return records.push(row(body));
  };

  return {
    logId,
    table,
    write(event: AuditEvent) {
      const checked = checkAuditEvent(event);
      return push(typeof checked === 'string' ? checked : { event: checked });
    },
    writeSummary(summary: AuditHitSummary) {
      const checked = checkHitSummary(summary);
      return push(typeof checked === 'string' ? checked : { summary: checked });
    },
    close() {
      if (closed !== undefined) return closed;
      closing = true;
      closed = (async () => {
        // Every record accepted before close() is written (or failed) before the checkpoint.
        await records.drain();
        if (!wroteAny || broken !== undefined || owner === undefined) return;
        const { identity, environment } = owner;
        await insertRows([row({ checkpoint: { ts: new Date(now()).toISOString(), count, identity, environment } })]);
      })();
      return closed;
    },
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The query columns of a line: copies of what the line says, for indexes (never trusted by the verifier). */
function columnsOf(body: AuditLineBody): {
  ts: string;
  kind: string;
  identity: string | null;
  environment: string;
  ref: string | null;
  action: string | null;
  outcome: string | null;
} {
  if ('event' in body) {
    const e = body.event;
    return { ts: e.ts, kind: 'event', identity: e.identity, environment: e.environment, ref: e.ref, action: e.action, outcome: e.outcome };
  }
  if ('summary' in body) {
    const s = body.summary;
    return { ts: s.last, kind: 'summary', identity: s.identity, environment: s.environment, ref: s.ref, action: 'cache-hit', outcome: 'success' };
  }
  // The PostgreSQL sink never continues a chain, so it writes no `resumed` marker; a row holds its kind either way.
  const [kind, c] = 'checkpoint' in body ? ['checkpoint', body.checkpoint] : ['resumed', body.resumed];
  return { ts: c.ts, kind, identity: c.identity, environment: c.environment, ref: null, action: null, outcome: null };
}
