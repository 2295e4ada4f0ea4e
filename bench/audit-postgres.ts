// Central audit into PostgreSQL (issues 16 and 17): postgresAuditSink against `audit: false` in
// the same run, on the loopback PostgreSQL (127.0.0.1:5432, database `test`), 64 concurrent
// callers, fresh clients per round, the median round of ROUNDS kept. Every record is one row; the
// sink's group commit makes one multi-row INSERT per batch, so the figures include INSERTs per
// second and rows per INSERT (counted around the real pool).
//
// audit-postgres-each: warm gets with auditCacheHits: 'each' (every cache hit is a row).
// audit-postgres-fetch: uncached fetches (cache: false), every fetch a row.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresAuditSink } from '../src/audit/postgresAuditSink.js';
import type { AuditQueryable } from '../src/audit/pgTable.js';
import { CALLERS, benchKey, fmt, rate, subject } from './audit-shared.js';
import type { BenchModule, BenchOutcome } from './run.js';

const ROUNDS = 5;
const SPAN_MS = 1_000;
const URL = process.env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The pool, counting INSERT statements and the rows they carry. */
function counted(pool: pg.Pool): { db: AuditQueryable; inserts: () => number; rows: () => number; reset: () => void } {
  let inserts = 0;
  let rows = 0;
  return {
    db: {
      query: (q: string | { text: string; values?: unknown[]; name?: string }, values?: unknown[]) => {
        if (typeof q === 'string') return pool.query(q, values);
        if (q.text.includes('INSERT')) {
          inserts += 1;
          rows += (q.values![1] as unknown[]).length;
        }
        return pool.query(q as pg.QueryConfig);
      },
    },
    inserts: () => inserts,
    rows: () => rows,
    reset: () => void ((inserts = 0), (rows = 0)),
  };
}

function postgresBench(name: string, description: string, cached: boolean, minShare: number, durable = true): BenchModule {
  return {
    name,
    description,
    async run(log): Promise<BenchOutcome> {
      const pool = new pg.Pool({ connectionString: URL, max: 4 });
      const table = `bench_audit_${randomBytes(5).toString('hex')}`;
      const counter = counted(pool);
      const rounds: { off: number; pg: number; ratio: number; insertsPerSec: number; rowsPerInsert: number }[] = [];
      try {
        for (let r = 0; r < ROUNDS; r++) {
          const base = cached ? {} : { cache: false as const };
          const measure = async (audited: boolean) => {
            const s = await subject(audited ? { ...base, audit: postgresAuditSink({ pool: counter.db, hmacKey: benchKey(), table, durable }), auditCacheHits: 'each' } : { ...base, audit: false });
            counter.reset();
            const started = performance.now();
            const got = await rate(s.get, CALLERS, SPAN_MS);
            const seconds = (performance.now() - started) / 1000;
            const inserts = counter.inserts();
            const rows = counter.rows();
            await s.close();
            return { got, insertsPerSec: inserts / seconds, rowsPerInsert: inserts === 0 ? 0 : rows / inserts };
          };
          const order = r % 2 === 0 ? [false, true] : [true, false];
          const got: Record<string, Awaited<ReturnType<typeof measure>>> = {};
          for (const audited of order) got[String(audited)] = await measure(audited);
          const off = got['false']!.got;
          const on = got['true']!;
          rounds.push({ off, pg: on.got, ratio: off / on.got, insertsPerSec: on.insertsPerSec, rowsPerInsert: on.rowsPerInsert });
          log(`round ${r + 1}: audit: false ${fmt(off)}/s, postgresAuditSink ${fmt(on.got)}/s (${(on.got / off).toFixed(3)}x), ${fmt(on.insertsPerSec)} INSERTs/s, ${on.rowsPerInsert.toFixed(1)} rows per INSERT`);
        }
      } finally {
        await pool.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
        await pool.end();
      }
      const median = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
      log(`median round: audit: false ${fmt(median.off)}/s, postgresAuditSink ${fmt(median.pg)}/s = ${(median.pg / median.off).toFixed(3)}x (target >= ${minShare}x)`);
      return {
        ratio: median.ratio,
        target: Math.round((1 / minShare) * 100) / 100,
        figures: {
          callers: CALLERS,
          spanMs: SPAN_MS,
          rounds: ROUNDS,
          auditOffPerSec: Math.round(median.off),
          postgresPerSec: Math.round(median.pg),
          share: Math.round((median.pg / median.off) * 1000) / 1000,
          insertsPerSec: Math.round(median.insertsPerSec),
          rowsPerInsert: Math.round(median.rowsPerInsert * 10) / 10,
          ratiosByRound: rounds.map((x) => Math.round(x.ratio * 1000) / 1000),
        },
      };
    },
  };
}

// The 'each' target for the file sink (>= 0.05x audit: false) applied to the central sink.
export const auditPostgresEach = postgresBench(
  'audit-postgres-each',
  `warm get, prod, postgresAuditSink with auditCacheHits: 'each', ${CALLERS} callers vs audit: false`,
  true,
  0.05,
);

// The same with durable: false (synchronous_commit off for the sink's INSERTs): the promise of
// fileAuditSink without fsync.
export const auditPostgresEachRelaxed = postgresBench(
  'audit-postgres-each-relaxed',
  `warm get, prod, postgresAuditSink durable: false, auditCacheHits: 'each', ${CALLERS} callers vs audit: false`,
  true,
  0.05,
  false,
);

// No target in the issues for uncached fetches into PostgreSQL; the same 0.05x share is held to.
export const auditPostgresFetch = postgresBench(
  'audit-postgres-fetch',
  `uncached fetches, prod, postgresAuditSink, ${CALLERS} callers vs audit: false (cache: false)`,
  false,
  0.05,
);
