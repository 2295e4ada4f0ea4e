// What the dashboard shows, computed from the logs: the per-log summaries of `audit summary` (the
// same function, so the page's numbers equal its --json), plus the series and tallies behind the
// charts, which the same pass collects.
import { verifyAuditLog, type VerifyAuditLogOptions } from '../audit/verifyAuditLog.js';
import { formatRef } from '../ref/formatRef.js';
import { parseRef } from '../ref/parseRef.js';
import { AuditInvalid, cmp, fileLineReader, summarizeAuditLines, type AuditSummary, type CountedRecord, type SummaryTotals } from './auditSummary.js';

/** One log: how its verification went and, unless it failed, its summary. */
export interface LogReport {
  readonly file: string;
  /** `verified` with a key and an intact chain, `unverified` without a key, `invalid` when it failed (its records are not counted). */
  readonly status: 'verified' | 'unverified' | 'invalid';
  /** Records verified (verified), or verified before the first bad line (invalid). */
  readonly count: number | null;
  readonly firstInvalidLine: number | null;
  readonly reason: string | null;
  readonly summary: AuditSummary | null;
}

/** A declared rotation cadence of a ref, from the manifests of `--config`. */
export interface Cadence {
  readonly ref: string;
  readonly name: string;
  readonly rotation: string;
  readonly rotationMs: number;
}

/** One secret's rotations in the logs. */
export interface RotationRow {
  readonly ref: string;
  readonly rotations: number;
  /** The last successful rotation (epoch ms), or null when the logs hold none. */
  readonly last: number | null;
  /** Milliseconds from the last rotation to the report's `now`. */
  readonly ageMs: number | null;
  readonly cadence: Cadence | null;
  /** `ok`/`overdue` against the cadence; `never` when a declared secret has no rotation in the logs; null without a cadence. */
  readonly status: 'ok' | 'overdue' | 'never' | null;
}

/** Accesses per bucket of one identity or ref. */
export interface Series {
  readonly label: string;
  readonly counts: number[];
  readonly total: number;
}

/** An anomaly record. */
export interface AnomalyRow {
  readonly ts: number;
  readonly kind: string;
  readonly identity: string;
  readonly ref: string;
  readonly reason: string;
}

/** Everything the page renders. */
export interface ReportData {
  readonly now: number;
  readonly range: { readonly since: string | null; readonly until: string | null };
  readonly logs: LogReport[];
  /** The sum of the counted logs' totals. */
  readonly totals: SummaryTotals & { events: number };
  readonly time: { readonly start: number; readonly bucketMs: number; readonly buckets: number };
  readonly byIdentity: Series[];
  readonly byRef: Series[];
  readonly rotations: RotationRow[];
  readonly deniedByCode: [string, number][];
  readonly failedByCode: [string, number][];
  readonly byRule: [string, number][];
  readonly anomaliesByKind: [string, number][];
  readonly anomalies: AnomalyRow[];
  /** Anomaly records beyond the listed ones. */
  readonly anomaliesOmitted: number;
}

/** Options of {@link buildReport}. */
export interface BuildReportOptions {
  readonly since: number;
  readonly until: number;
  readonly now: number;
  /** With a key every log is verified first; a log that fails is reported and not counted. */
  readonly hmacKey?: string;
  readonly verify?: Omit<VerifyAuditLogOptions, 'hmacKey'>;
  readonly cadences?: readonly Cadence[];
}

/** Series drawn per chart; the rest are summed as "(other)". */
export const MAX_SERIES = 8;
/** Anomalies listed in the table (all are counted). */
export const MAX_ANOMALY_ROWS = 200;
const BUCKETS = [60_000, 300_000, 900_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000];
const MAX_BUCKETS = 36;

/**
 * What one log adds to the charts, kept small whatever the log's size: accesses per identity and
 * per ref as counts per minute (sparse), tallies per code and rule, and the anomalies.
 */
class Tally {
  readonly byIdentity = new Map<string, Map<number, number>>();
  readonly byRef = new Map<string, Map<number, number>>();
  readonly rotations = new Map<string, { count: number; last: number }>();
  readonly denied = new Map<string, number>();
  readonly failed = new Map<string, number>();
  readonly rules = new Map<string, number>();
  readonly kinds = new Map<string, number>();
  readonly anomalies: AnomalyRow[] = [];
  anomalyCount = 0;

  add(r: CountedRecord): void {
    if (r.action === 'resolve' || r.action === 'cache-hit') {
      const minute = Math.floor(r.ts / MINUTE);
      addAt(this.byIdentity, r.identity, minute, r.hits);
      addAt(this.byRef, r.ref, minute, r.hits);
    }
    if (r.action === 'rotate' && r.outcome === 'success') {
      const cur = this.rotations.get(r.ref) ?? { count: 0, last: -Infinity };
      this.rotations.set(r.ref, { count: cur.count + 1, last: Math.max(cur.last, r.ts) });
    }
    if (r.action === 'anomaly') {
      bump(this.kinds, r.code, 1);
      this.anomalyCount += 1;
      this.anomalies.push({ ts: r.ts, kind: r.code, identity: r.identity, ref: r.ref, reason: r.reason ?? '' });
      // Only the latest are listed: keep the list bounded while reading.
      if (this.anomalies.length > 2 * MAX_ANOMALY_ROWS) this.anomalies.splice(0, this.anomalies.length - MAX_ANOMALY_ROWS);
    }
    if (r.outcome === 'denied') bump(this.denied, r.code, 1);
    if (r.outcome === 'failure') bump(this.failed, r.code, 1);
    if ((r.outcome === 'denied' || r.outcome === 'failure') && r.rule !== undefined) bump(this.rules, r.rule, 1);
  }

  merge(t: Tally): void {
    for (const [k, m] of t.byIdentity) for (const [minute, n] of m) addAt(this.byIdentity, k, minute, n);
    for (const [k, m] of t.byRef) for (const [minute, n] of m) addAt(this.byRef, k, minute, n);
    for (const [ref, r] of t.rotations) {
      const cur = this.rotations.get(ref) ?? { count: 0, last: -Infinity };
      this.rotations.set(ref, { count: cur.count + r.count, last: Math.max(cur.last, r.last) });
    }
    for (const [into, from] of [
      [this.denied, t.denied],
      [this.failed, t.failed],
      [this.rules, t.rules],
      [this.kinds, t.kinds],
    ] as const) {
      for (const [k, n] of from) bump(into, k, n);
    }
    this.anomalies.push(...t.anomalies);
    this.anomalyCount += t.anomalyCount;
  }
}

const MINUTE = 60_000;

/**
 * A log the report reads: a file, or a PostgreSQL audit table (every chain of it as one log).
 * `verify` answers as {@link verifyAuditLog} does; `read` hands over each line's bytes in order.
 */
export interface ReportSource {
  /** How the page and messages name it (a path, or `postgres://host/db table t`: never a password). */
  readonly name: string;
  verify(hmacKey: string, options: Omit<VerifyAuditLogOptions, 'hmacKey'>): Promise<{ ok: boolean; count: number; firstInvalidLine?: number; reason?: string }>;
  read(onLine: (bytes: Buffer, where: string) => void): Promise<void>;
}

/** A file log as a {@link ReportSource}. */
export function fileSource(file: string): ReportSource {
  return {
    name: file,
    verify: (hmacKey, options) => verifyAuditLog(file, { hmacKey, ...options }),
    read: fileLineReader(file),
  };
}

/** Reads, verifies and counts every log. */
export async function buildReport(sources: readonly ReportSource[], o: BuildReportOptions): Promise<ReportData> {
  const logs: LogReport[] = [];
  const all = new Tally();
  for (const source of sources) {
    const file = source.name;
    let count: number | null = null;
    if (o.hmacKey !== undefined) {
      const v = await source.verify(o.hmacKey, o.verify ?? {});
      if (!v.ok) {
        logs.push({ file, status: 'invalid', count: v.count, firstInvalidLine: v.firstInvalidLine ?? null, reason: v.reason ?? null, summary: null });
        continue;
      }
      count = v.count;
    }
    // Merged only once the log has been read whole: a log that turns out malformed halfway adds
    // nothing to the charts, as it adds nothing to the totals.
    const tally = new Tally();
    let summary: AuditSummary;
    try {
      summary = await summarizeAuditLines((onLine) => source.read(onLine), o.since, o.until, (r) => tally.add(r));
    } catch (err) {
      if (!(err instanceof AuditInvalid)) throw err;
      const m = /line (\d+): (.*)$/s.exec(err.message);
      logs.push({ file, status: 'invalid', count: null, firstInvalidLine: m ? Number(m[1]) : null, reason: m ? m[2]! : err.message, summary: null });
      continue;
    }
    logs.push({ file, status: o.hmacKey === undefined ? 'unverified' : 'verified', count, firstInvalidLine: null, reason: null, summary });
    all.merge(tally);
  }

  const counted = logs.flatMap((l) => (l.summary === null ? [] : [l.summary]));
  const totals = counted.reduce(
    (t, s) => ({
      events: t.events + s.events,
      accesses: t.accesses + s.totals.accesses,
      denials: t.denials + s.totals.denials,
      failures: t.failures + s.totals.failures,
      rotations: t.rotations + s.totals.rotations,
      anomalies: t.anomalies + s.totals.anomalies,
    }),
    { events: 0, accesses: 0, denials: 0, failures: 0, rotations: 0, anomalies: 0 },
  );

  const minutes: number[] = [];
  for (const m of all.byIdentity.values()) for (const minute of m.keys()) minutes.push(minute);
  const time = timeAxis(minutes);
  const series = (by: Map<string, Map<number, number>>): Series[] => {
    const out = [...by.entries()].map(([label, m]) => {
      const counts = new Array<number>(time.buckets).fill(0);
      for (const [minute, n] of m) counts[Math.min(time.buckets - 1, Math.floor((minute * MINUTE - time.start) / time.bucketMs))]! += n;
      return { label, counts, total: counts.reduce((x, y) => x + y, 0) };
    });
    out.sort((a, b) => b.total - a.total || cmp(a.label, b.label));
    if (out.length <= MAX_SERIES) return out;
    const rest = out.slice(MAX_SERIES - 1);
    const other = new Array<number>(time.buckets).fill(0);
    for (const s of rest) s.counts.forEach((n, i) => (other[i]! += n));
    return [...out.slice(0, MAX_SERIES - 1), { label: `(${rest.length} others)`, counts: other, total: rest.reduce((x, s) => x + s.total, 0) }];
  };

  const cadenceOf = new Map((o.cadences ?? []).map((c) => [c.ref, c]));
  const rotationRows: RotationRow[] = [...all.rotations.entries()].map(([ref, r]) => {
    const cadence = cadenceOf.get(ref) ?? null;
    const ageMs = Math.max(0, o.now - r.last);
    return { ref, rotations: r.count, last: r.last, ageMs, cadence, status: cadence === null ? null : ageMs > cadence.rotationMs ? 'overdue' : 'ok' };
  });
  for (const c of cadenceOf.values()) {
    if (!all.rotations.has(c.ref)) rotationRows.push({ ref: c.ref, rotations: 0, last: null, ageMs: null, cadence: c, status: 'never' });
  }
  rotationRows.sort((a, b) => b.rotations - a.rotations || cmp(a.ref, b.ref));
  const anomalies = [...all.anomalies].sort((a, b) => a.ts - b.ts).slice(-MAX_ANOMALY_ROWS);

  return {
    now: o.now,
    range: { since: Number.isFinite(o.since) ? new Date(o.since).toISOString() : null, until: Number.isFinite(o.until) ? new Date(o.until).toISOString() : null },
    logs,
    totals,
    time,
    byIdentity: series(all.byIdentity),
    byRef: series(all.byRef),
    rotations: rotationRows,
    deniedByCode: sortedEntries(all.denied),
    failedByCode: sortedEntries(all.failed),
    byRule: sortedEntries(all.rules),
    anomaliesByKind: sortedEntries(all.kinds),
    anomalies,
    anomaliesOmitted: all.anomalyCount - anomalies.length,
  };
}

/** The canonical form of a ref without `#field`, as the audit log records it; null when it does not parse. */
export function auditKey(ref: string): string | null {
  try {
    const r = parseRef(ref);
    return formatRef({ scheme: r.scheme, path: r.path, segments: r.segments, params: r.params });
  } catch {
    return null;
  }
}

/** The smallest bucket that covers the accesses (minute numbers) in at most {@link MAX_BUCKETS} buckets, aligned to it. */
function timeAxis(minutes: number[]): ReportData['time'] {
  if (minutes.length === 0) return { start: 0, bucketMs: BUCKETS[3]!, buckets: 1 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of minutes) {
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  lo *= MINUTE;
  hi *= MINUTE;
  const span = hi - lo + MINUTE;
  for (const bucketMs of BUCKETS) {
    const start = Math.floor(lo / bucketMs) * bucketMs;
    const buckets = Math.floor((hi - start) / bucketMs) + 1;
    if (buckets <= MAX_BUCKETS) return { start, bucketMs, buckets };
  }
  // Beyond the largest bucket: whole minutes from the first access (aligning the start could
  // add a bucket), as many as fit the span in MAX_BUCKETS.
  const bucketMs = Math.ceil(span / MAX_BUCKETS / MINUTE) * MINUTE;
  return { start: lo, bucketMs, buckets: Math.floor((hi - lo) / bucketMs) + 1 };
}

function bump(m: Map<string, number>, k: string, n: number): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

function addAt(m: Map<string, Map<number, number>>, key: string, minute: number, n: number): void {
  let counts = m.get(key);
  if (counts === undefined) m.set(key, (counts = new Map()));
  counts.set(minute, (counts.get(minute) ?? 0) + n);
}

function sortedEntries(m: Map<string, number>): [string, number][] {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
}
