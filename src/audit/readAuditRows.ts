import { MAX_LINE_BYTES } from './lines.js';
import { quotedTable, type AuditQueryable } from './pgTable.js';

const PAGE = 1_000;

/**
 * Reads every row of a PostgreSQL audit table, chain by chain in `seq` order, a page at a time,
 * and calls `onRow` with the stored line's bytes and where it is (`chain <id> seq <n>`, for
 * messages that never quote the row). A reader of records (summaries, incident reports); it does
 * not verify (see verifyPostgresAuditLog).
 *
 * @internal
 */
export async function readAuditRows(db: AuditQueryable, table: string, onRow: (bytes: Buffer, where: string) => void): Promise<void> {
  const { sql } = quotedTable(table);
  let after: [string, string] = ['', '0'];
  for (;;) {
    const page = await db.query(
      // A row longer than any audit line is not fetched whole; it reads as empty, which no parser accepts.
      `SELECT log_id, seq::text AS seq_text, CASE WHEN octet_length(line) > ${MAX_LINE_BYTES} THEN '' ELSE line END AS line ` +
        `FROM ${sql} WHERE (log_id, seq) > ($1, $2::bigint) ORDER BY log_id, seq LIMIT ${PAGE}`,
      after,
    );
    const rows = page.rows as { log_id: string; seq_text: string; line: string | null }[];
    for (const r of rows) onRow(Buffer.from(r.line ?? '', 'utf8'), `chain ${r.log_id} seq ${r.seq_text}`);
    if (rows.length < PAGE) return;
    const lastRow = rows[rows.length - 1]!;
    after = [lastRow.log_id, lastRow.seq_text];
  }
}
