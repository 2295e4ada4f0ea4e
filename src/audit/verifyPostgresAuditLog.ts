import { ChainCheck } from './chainCheck.js';
import { MAX_LINE_BYTES } from './lines.js';
import { DEFAULT_AUDIT_TABLE, quotedTable, type AuditQueryable } from './pgTable.js';
import { macKey, recordOf } from './record.js';
import type { AuditVerification } from './verifyAuditLog.js';

/**
 * Options of {@link verifyPostgresAuditLog}.
 *
 * @example
 * ```ts
 * await verifyPostgresAuditLog({ pool, hmacKey, requireCheckpoint: false }); // writers still running
 * ```
 */
export interface VerifyPostgresAuditLogOptions {
  /** A `pg.Pool` (or anything with its `query(text, values)`). */
  readonly pool: AuditQueryable;
  /** The key the chains were written with. */
  readonly hmacKey: string | Uint8Array;
  /**
   * The table.
   * @default 'connector_secrets_audit'
   */
  readonly table?: string;
  /**
   * Whether every chain must end with its signed checkpoint (written when its sink closed).
   * Without it a chain cut short at a row boundary cannot be told from one still being written
   * or one whose writer was killed.
   * @default true
   */
  readonly requireCheckpoint?: boolean;
  /**
   * Verify only this chain (a writer's `postgresAuditSink(...).logId`).
   * @default every chain of the table
   */
  readonly logId?: string;
}

/** What {@link verifyPostgresAuditLog} found in one chain: the file verifier's result, per log id. */
export interface PostgresChainVerification extends AuditVerification {
  /** The chain's log id (its rows' `log_id`). */
  readonly logId: string;
  /** Whether the chain ends with its signed checkpoint (its writer closed). */
  readonly closed: boolean;
  /** The identity of the chain's first verified record, when one verified. */
  readonly identity?: string | null;
  /** The environment of the chain's first verified record, when one verified. */
  readonly environment?: string;
}

/** What {@link verifyPostgresAuditLog} found in the table. */
export interface PostgresAuditVerification {
  /** True when the table holds at least one chain and every chain verifies. */
  readonly ok: boolean;
  /** Records (events and summaries) verified, over all chains. */
  readonly count: number;
  /** One result per chain, by log id. `firstInvalidLine` is the 1-based row of the chain in `seq` order. */
  readonly logs: readonly PostgresChainVerification[];
  /** Why the table as a whole does not verify (missing, empty), when it does not. */
  readonly reason?: string;
}

const PAGE = 1_000;

/**
 * Verifies the chains `postgresAuditSink` wrote into a table, each as `verifyAuditLog` verifies a
 * file: every `line` must be exactly the bytes the writer emits and its MAC must cover them, `seq`
 * must count from 1 in `seq` order, `prev` must chain each row to the one before, every row must
 * carry its chain's log id (in the line and in the `log_id` and `seq` columns alike), and each
 * chain must end with a checkpoint counting its records. An UPDATEd row fails its MAC; a DELETEd
 * middle row breaks the sequence; a DELETEd tail loses the checkpoint; rows moved between chains
 * break the chain or the log id; an injected duplicate `(log_id, seq)` is refused.
 *
 * What no chain can show: a whole chain deleted (every row of a log id), or the tail of a chain
 * whose writer never closed, cut back to a row boundary. Keep the log ids your writers report
 * (`sink.logId`) elsewhere to catch the first.
 *
 * @example
 * ```ts
 * const result = await verifyPostgresAuditLog({ pool, hmacKey });
 * for (const log of result.logs) if (!log.ok) console.error(`chain ${log.logId}: row ${log.firstInvalidLine}: ${log.reason}`);
 * ```
 */
export async function verifyPostgresAuditLog(options: VerifyPostgresAuditLogOptions): Promise<PostgresAuditVerification> {
  const key = macKey(options.hmacKey);
  const table = options.table ?? DEFAULT_AUDIT_TABLE;
  const { sql } = quotedTable(table);
  const db = options.pool;
  const requireCheckpoint = options.requireCheckpoint ?? true;

  let ids: string[];
  try {
    const only = options.logId === undefined ? '' : ' WHERE log_id = $1';
    const found = await db.query(`SELECT DISTINCT log_id FROM ${sql}${only} ORDER BY log_id`, options.logId === undefined ? [] : [options.logId]);
    ids = (found.rows as { log_id: string }[]).map((r) => r.log_id);
  } catch (err) {
    if ((err as { code?: unknown }).code === '42P01') return { ok: false, count: 0, logs: [], reason: `the table ${table} does not exist` };
    throw err;
  }
  if (ids.length === 0) return { ok: false, count: 0, logs: [], reason: options.logId === undefined ? `the table ${table} holds no audit rows` : 'no rows of that log id' };

  // The primary key forbids two rows of one (log_id, seq); a table whose key was dropped may hold them.
  const dups = await db.query(`SELECT log_id, min(seq)::text AS seq FROM ${sql} GROUP BY log_id, seq HAVING count(*) > 1`);
  const duplicated = new Map((dups.rows as { log_id: string; seq: string }[]).map((r) => [r.log_id, Number(r.seq)]));

  const logs: PostgresChainVerification[] = [];
  for (const logId of ids) logs.push(await verifyChain(db, sql, logId, key, requireCheckpoint, duplicated.get(logId)));
  const count = logs.reduce((n, l) => n + l.count, 0);
  return { ok: logs.every((l) => l.ok), count, logs };
}

async function verifyChain(
  db: AuditQueryable,
  sql: string,
  logId: string,
  key: ReturnType<typeof macKey>,
  requireCheckpoint: boolean,
  duplicateSeq: number | undefined,
): Promise<PostgresChainVerification> {
  const chain = new ChainCheck(key);
  let rowNo = 0;
  let after = '0';
  let owner: { identity: string | null; environment: string } | undefined;
  const result = (extra: { ok: boolean; firstInvalidLine?: number; reason?: string }): PostgresChainVerification => ({
    ...extra,
    count: chain.count,
    logId,
    closed: chain.lastWasCheckpoint,
    ...(owner === undefined ? {} : { identity: owner.identity, environment: owner.environment }),
  });
  for (;;) {
    // A row longer than any audit line is not fetched whole (a hostile table must not exhaust memory).
    const page = await db.query(
      `SELECT seq::text AS seq_text, CASE WHEN octet_length(line) > ${MAX_LINE_BYTES} THEN NULL ELSE line END AS line, octet_length(line) > ${MAX_LINE_BYTES} AS too_long ` +
        `FROM ${sql} WHERE log_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`,
      [logId, after],
    );
    const rows = page.rows as { seq_text: string; line: string | null; too_long: boolean | null }[];
    for (const r of rows) {
      rowNo += 1;
      if (duplicateSeq !== undefined && Number(r.seq_text) === duplicateSeq) {
        return result({ ok: false, firstInvalidLine: rowNo, reason: `two rows hold seq ${duplicateSeq}: a row was injected` });
      }
      const refused =
        r.too_long === true
          ? { line: rowNo, reason: `longer than ${MAX_LINE_BYTES} bytes: not an audit record` }
          : typeof r.line !== 'string'
            ? { line: rowNo, reason: 'the row has no line' }
            : chain.line(Buffer.from(r.line, 'utf8'), rowNo);
      if (refused !== undefined) return result({ ok: false, firstInvalidLine: refused.line, reason: refused.reason });
      // The PostgreSQL sink seals every row alone (one row, one MAC).
      if (chain.pending > 0) return result({ ok: false, firstInvalidLine: rowNo, reason: 'the row carries no MAC: not what the PostgreSQL sink writes' });
      const line = chain.last!;
      if (line.log !== logId || String(line.seq) !== r.seq_text) {
        return result({ ok: false, firstInvalidLine: rowNo, reason: 'the row\'s log_id or seq column differs from its signed line: rows were moved' });
      }
      owner ??= recordOf(line);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.seq_text;
  }
  if (requireCheckpoint && !chain.lastWasCheckpoint) {
    return result({ ok: false, firstInvalidLine: rowNo + 1, reason: 'the chain does not end with a signed checkpoint: its tail was deleted, or its writer did not close (still running, or killed)' });
  }
  return result({ ok: true });
}
