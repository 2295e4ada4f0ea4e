// The counting behind `audit summary` and `report`: one pass over a log, one definition of what an
// access, a denial, a failure, a rotation and an anomaly are, so both commands print the same numbers.
import type { AuditEvent } from '../audit/event.js';
import { readLines } from '../audit/lines.js';
import { endsSession, parseLine } from '../audit/record.js';

/** One identity and ref of a summary. */
export interface SummaryRow {
  identity: string;
  ref: string;
  accesses: number;
  served: number;
  cacheHits: number;
  denials: number;
  failures: number;
  rotations: number;
  anomalies: number;
  denialCodes: Record<string, number>;
  failureCodes: Record<string, number>;
}

/** The totals of a summary. */
export interface SummaryTotals {
  accesses: number;
  denials: number;
  failures: number;
  rotations: number;
  anomalies: number;
}

/** What `audit summary --json` prints, less the file, the verified flag and the range. */
export interface AuditSummary {
  readonly events: number;
  readonly first: string | null;
  readonly last: string | null;
  readonly totals: SummaryTotals;
  readonly rows: SummaryRow[];
}

/**
 * One record in range, as counted: a cache-hit summary appears as action `cache-hit`, outcome
 * `success`, `hits` = its count, at the time of its last hit.
 */
export interface CountedRecord {
  readonly ts: number;
  readonly identity: string;
  readonly ref: string;
  readonly action: string | undefined;
  readonly outcome: string | undefined;
  /** The record's code, `UNKNOWN` when a denial or failure has none. */
  readonly code: string;
  readonly rule: string | undefined;
  readonly reason: string | undefined;
  readonly hits: number;
}

/** The file is not a well-formed audit log: a finding about the file (exit 1), not a usage error. */
export class AuditInvalid extends Error {
  readonly code = 'AUDIT_INVALID';
}

/**
 * Reads `file` and counts the records with `since <= ts < until` (epoch ms; ±Infinity for open
 * ends). Throws {@link AuditInvalid} on a line that is not a record.
 */
export async function summarizeAuditLog(file: string, since: number, until: number): Promise<AuditSummary> {
  return summarizeAuditLines(fileLineReader(file), since, until);
}

/** The lines of a file log for {@link summarizeAuditLines}, named `<file> line <n>`. */
export function fileLineReader(file: string): (onLine: (bytes: Buffer, where: string) => void) => Promise<void> {
  return async (onLine) => {
    const end = await readLines(file, (bytes, lineNo) => {
      onLine(bytes, `${file} line ${lineNo}`);
      return true;
    });
    if (!end.done) throw new AuditInvalid(`${file} line ${end.line}: ${end.reason}`);
  };
}

/**
 * The same count over any source of lines: `read` calls `onLine` with each line's bytes and where
 * it is (for messages; never the line), in order (a file, or a PostgreSQL table's chains).
 * `visit` sees every counted record, for views that need more than the summary (the report's
 * time series).
 */
export async function summarizeAuditLines(
  read: (onLine: (bytes: Buffer, where: string) => void) => Promise<void>,
  since: number,
  until: number,
  visit?: (r: CountedRecord) => void,
): Promise<AuditSummary> {
  const rows = new Map<string, SummaryRow>();
  let events = 0;
  let first: string | undefined;
  let last: string | undefined;
  await read((bytes, where) => {
    const parsed = parseLine(bytes);
    if (typeof parsed === 'string') throw new AuditInvalid(`${where}: ${parsed}`);
    const { line } = parsed;
    if (endsSession(line)) return;
    // A cache-hit summary counts as its hits, at the time of its last one.
    const e = ('event' in line ? line.event : { ...line.summary, ts: line.summary.last, action: 'cache-hit', outcome: 'success' }) as Partial<AuditEvent>;
    const hits = 'summary' in line ? line.summary.count : 1;
    const ts = typeof e.ts === 'string' ? Date.parse(e.ts) : NaN;
    if (Number.isNaN(ts) || ts < since || ts >= until) return;
    events += 1;
    first ??= 'summary' in line ? line.summary.first : e.ts;
    last = e.ts;
    const identity = typeof e.identity === 'string' ? e.identity : '-';
    const ref = typeof e.ref === 'string' ? e.ref : '(invalid ref)';
    const key = `${identity}\u0000${ref}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { identity, ref, accesses: 0, served: 0, cacheHits: 0, denials: 0, failures: 0, rotations: 0, anomalies: 0, denialCodes: {}, failureCodes: {} };
      rows.set(key, row);
    }
    const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
    if (e.action === 'resolve' || e.action === 'cache-hit') {
      row.accesses += hits;
      if (e.outcome === 'success') {
        row.served += hits;
        if (e.action === 'cache-hit') row.cacheHits += hits;
      }
    }
    if (e.action === 'rotate' && e.outcome === 'success') row.rotations += 1;
    if (e.action === 'anomaly') row.anomalies += 1;
    if (e.outcome === 'denied') {
      row.denials += 1;
      row.denialCodes[code] = (row.denialCodes[code] ?? 0) + 1;
    } else if (e.outcome === 'failure') {
      row.failures += 1;
      row.failureCodes[code] = (row.failureCodes[code] ?? 0) + 1;
    }
    visit?.({
      ts,
      identity,
      ref,
      action: typeof e.action === 'string' ? e.action : undefined,
      outcome: typeof e.outcome === 'string' ? e.outcome : undefined,
      code,
      rule: typeof e.rule === 'string' ? e.rule : undefined,
      reason: typeof e.reason === 'string' ? e.reason : undefined,
      hits,
    });
  });

  const sorted = [...rows.values()].sort((a, b) => (a.identity === b.identity ? cmp(a.ref, b.ref) : cmp(a.identity, b.identity)));
  const totals = sorted.reduce(
    (t, r) => ({
      accesses: t.accesses + r.accesses,
      denials: t.denials + r.denials,
      failures: t.failures + r.failures,
      rotations: t.rotations + r.rotations,
      anomalies: t.anomalies + r.anomalies,
    }),
    { accesses: 0, denials: 0, failures: 0, rotations: 0, anomalies: 0 },
  );
  return { events, first: first ?? null, last: last ?? null, totals, rows: sorted };
}

/** Code-unit order, the same on every machine (localeCompare is not). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
