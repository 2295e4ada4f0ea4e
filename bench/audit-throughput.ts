// Audited warm gets and fsync'd fetches at production settings (issue 17), each as a ratio to
// `audit: false` measured in the same run (fresh clients per round, 64 concurrent callers, the
// median round of ROUNDS kept). The runner's ratio is baseline/measured (higher = slower), so a
// target "at least 0.3x the unaudited rate" is a ratio of at most 1/0.3.
//
// audit-fsync also needs "today's" rate (before group commit): that is the rate of one
// `write` + `fdatasync` per record, one record after another, measured here in the same run on
// the same disk: the floor of the old sink, which did exactly that plus an HMAC per record. The
// rate of the pre-change commit, measured once with this harness, is in
// bench/results/audit-fsync-before.json.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileAuditSink } from '../src/audit/fileAuditSink.js';
import { CALLERS, benchKey, fmt, paired, rate, scratch, subject } from './audit-shared.js';
import type { BenchModule, BenchOutcome } from './run.js';

const ROUNDS = 5;
const SPAN_MS = 1_000;

/** A warm audited get against a warm unaudited one. */
function warm(name: string, description: string, minShare: number, audit: (file: string) => Parameters<typeof subject>[0]): BenchModule {
  return {
    name,
    description,
    async run(log): Promise<BenchOutcome> {
      const { dir, remove } = await scratch();
      let n = 0;
      try {
        const r = await paired(
          { a: () => subject({ audit: false }), b: () => subject(audit(path.join(dir, `audit-${n++}.jsonl`))) },
          { rounds: ROUNDS, ms: SPAN_MS, callers: CALLERS, log, labels: ['audit: false', 'audited'] },
        );
        log(`median round: audit: false ${fmt(r.a)} gets/s, audited ${fmt(r.b)} gets/s = ${(r.b / r.a).toFixed(3)}x (target >= ${minShare}x)`);
        return {
          ratio: r.ratio,
          target: Math.round((1 / minShare) * 100) / 100,
          figures: { callers: CALLERS, spanMs: SPAN_MS, rounds: ROUNDS, auditOffGetsPerSec: Math.round(r.a), auditedGetsPerSec: Math.round(r.b), share: Math.round((r.b / r.a) * 1000) / 1000, ratiosByRound: r.ratios },
        };
      } finally {
        await remove();
      }
    },
  };
}

export const auditSummary = warm(
  'audit-summary',
  `warm get, prod, fileAuditSink defaults (cache-hit summaries), ${CALLERS} callers vs audit: false`,
  0.3,
  (file) => ({ audit: fileAuditSink(file, { hmacKey: benchKey() }) }),
);

export const auditEach = warm(
  'audit-each',
  `warm get, prod, fileAuditSink with auditCacheHits: 'each', no fsync, ${CALLERS} callers vs audit: false`,
  0.05,
  (file) => ({ audit: fileAuditSink(file, { hmacKey: benchKey() }), auditCacheHits: 'each' }),
);

/** Records per second of one write + fdatasync per record, one after another (the pre-group-commit sink's floor). */
async function perRecordFsyncRate(file: string, ms: number): Promise<number> {
  const h = await open(file, 'a', 0o600);
  const line = Buffer.from(`${'x'.repeat(400)}\n`);
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    await h.write(line);
    await h.datasync();
    n += 1;
  }
  const rate = n / ((performance.now() - started) / 1000);
  await h.close();
  return rate;
}

export const auditFsync: BenchModule = {
  name: 'audit-fsync',
  description: `uncached fetches, prod, fileAuditSink fsync: true, ${CALLERS} callers vs one write + fdatasync per record (the old sink's floor)`,
  async run(log): Promise<BenchOutcome> {
    const { dir, remove } = await scratch();
    try {
      const rounds: { old: number; now: number; off: number; ratio: number }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const old = await perRecordFsyncRate(path.join(dir, `floor-${r}.jsonl`), SPAN_MS);
        const s = await subject({ cache: false, audit: fileAuditSink(path.join(dir, `audit-${r}.jsonl`), { hmacKey: benchKey(), fsync: true }) });
        const now = await rate(s.get, CALLERS, SPAN_MS * 2);
        await s.close();
        const off = await subject({ cache: false, audit: false });
        const offRate = await rate(off.get, CALLERS, SPAN_MS);
        await off.close();
        rounds.push({ old, now, off: offRate, ratio: old / now });
        log(`round ${r + 1}: per-record fdatasync ${fmt(old)}/s, group commit ${fmt(now)} fetches/s (${(now / old).toFixed(1)}x), audit: false ${fmt(offRate)} fetches/s`);
      }
      const median = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
      log(`median round: ${(median.now / median.old).toFixed(1)}x the per-record fdatasync rate (target >= 20x), ${(median.now / median.off).toFixed(3)}x audit: false`);
      return {
        ratio: median.ratio,
        target: 0.05,
        figures: {
          callers: CALLERS,
          rounds: ROUNDS,
          perRecordFsyncPerSec: Math.round(median.old),
          groupCommitFetchesPerSec: Math.round(median.now),
          auditOffFetchesPerSec: Math.round(median.off),
          speedup: Math.round((median.now / median.old) * 10) / 10,
          ratiosByRound: rounds.map((x) => Math.round(x.ratio * 1000) / 1000),
        },
      };
    } finally {
      await remove();
    }
  },
};
