import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent, AuditHitSummary, AuditSink } from '../../src/audit/event.js';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { stdoutAuditSink } from '../../src/audit/stdoutAuditSink.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { createSecrets, type SecretsOptions } from '../../src/client.js';
import type { AnomalyEvent } from '../../src/metrics/anomaly.js';
import { fromMock } from '../../src/testing/index.js';
import { fakeClock, generated } from '../helpers.js';
import { hmacKey } from './helpers.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-audit-summary-'));
  path = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 1, 2);
const REF = 'secret://orders-db/password';

function client(options: Partial<SecretsOptions> & Pick<SecretsOptions, 'audit'>) {
  const clock = fakeClock(T0);
  const mock = fromMock();
  mock.set(REF, generated());
  const secrets = createSecrets({ environment: 'prod', identity: 'orders-sync', strictEnvironment: false, providers: [mock], now: clock.now, ...options });
  return { secrets, clock };
}

const lines = async () => (await readFile(path, 'utf8')).split('\n').slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("auditCacheHits: 'summary' (the default)", () => {
  it('a fetch is one event; its cache hits are one summary (count, first, last of the client clock) written on close; the log verifies', async () => {
    const key = hmacKey();
    const { secrets, clock } = client({ audit: fileAuditSink(path, { hmacKey: key }) });
    await secrets.get(REF); // the fetch
    clock.advance(1_000);
    for (let i = 0; i < 500; i++) await secrets.get(REF);
    clock.advance(2_000);
    await secrets.get(REF);
    await secrets.close();
    const recs = await lines();
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({ event: { action: 'resolve', ref: REF } });
    expect(recs[1]!['summary']).toEqual({
      identity: 'orders-sync', environment: 'prod', ref: REF, provider: 'mock', version: '1', count: 501,
      first: new Date(T0 + 1_000).toISOString(), last: new Date(T0 + 3_000).toISOString(),
    });
    expect(recs[2]).toMatchObject({ checkpoint: { count: 2 } });
    expect(await verifyAuditLog(path, { hmacKey: key, identity: 'orders-sync', environment: 'prod' })).toEqual({ ok: true, count: 2 });
    expect(secrets.metrics()).toMatchObject({ cacheHits: 501 });
  });

  it('one summary per interval of the client clock (a hit after the interval writes the last one), per ref, provider and version', async () => {
    const summaries: AuditHitSummary[] = [];
    const sink = { write: () => {}, writeSummary: (s: AuditHitSummary) => void summaries.push(s) };
    const { secrets, clock } = client({ audit: sink, auditSummaryIntervalMs: 10_000 });
    await secrets.get(REF);
    await secrets.get(REF);
    await secrets.get(REF);
    clock.advance(10_000);
    await secrets.get(REF);
    expect(summaries).toMatchObject([{ count: 2 }]);
    await secrets.close();
    expect(summaries).toMatchObject([{ count: 2 }, { count: 1, first: new Date(T0 + 10_000).toISOString() }]);
  });

  it("'each' writes every hit as an event; false writes none; a sink without writeSummary is given every hit", async () => {
    const count = async (audit: AuditSink, mode?: SecretsOptions['auditCacheHits']) => {
      const { secrets } = client({ audit, ...(mode === undefined ? {} : { auditCacheHits: mode }) });
      for (let i = 0; i < 5; i++) await secrets.get(REF);
      await secrets.close();
    };
    const each: AuditEvent[] = [];
    await count(callbackAuditSink({ batch: (es) => void each.push(...es) }), 'each');
    expect(each.map((e) => e.action)).toEqual(['resolve', 'cache-hit', 'cache-hit', 'cache-hit', 'cache-hit']);
    const none: AuditEvent[] = [];
    await count(callbackAuditSink((e) => void none.push(e)), false);
    expect(none.map((e) => e.action)).toEqual(['resolve']);
    const plain: AuditEvent[] = [];
    await count(callbackAuditSink((e) => void plain.push(e)));
    expect(plain.map((e) => e.action)).toEqual(['resolve', 'cache-hit', 'cache-hit', 'cache-hit', 'cache-hit']);
    expect(() => createSecrets({ environment: 'dev', providers: [], auditCacheHits: true as never })).toThrow(/auditCacheHits/);
  });

  it('stdoutAuditSink writes summaries as {"auditSummary":…} lines', async () => {
    let out = '';
    const { secrets } = client({ audit: stdoutAuditSink({ write: (l) => void (out += l) }) });
    await secrets.get(REF);
    await secrets.get(REF);
    await secrets.close();
    const recs = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toMatchObject([{ audit: { action: 'resolve' } }, { auditSummary: { ref: REF, count: 1 } }]);
  });

  it('a burst of cache hits is still detected, and the alert is an event of its own', async () => {
    const key = hmacKey();
    const seen: AnomalyEvent[] = [];
    const { secrets, clock } = client({
      audit: fileAuditSink(path, { hmacKey: key }),
      anomaly: { warmupAccesses: 1_000_000, burstFactor: 5, burstWindowMs: 60_000, burstMinAccesses: 20, burstWarmupWindows: 5 },
    });
    secrets.on('anomaly', (a) => void seen.push(a));
    await secrets.get(REF);
    for (let w = 0; w < 6; w++) {
      for (let i = 0; i < 3; i++) await secrets.get(REF);
      clock.advance(60_000);
    }
    expect(seen).toEqual([]);
    for (let i = 0; i < 40; i++) await secrets.get(REF);
    await new Promise((r) => setImmediate(r));
    expect(seen).toMatchObject([{ kind: 'burst', ref: REF }]);
    await secrets.close();
    const recs = await lines();
    expect(recs.filter((r) => (r['event'] as AuditEvent | undefined)?.action === 'anomaly')).toMatchObject([{ event: { code: 'burst', outcome: 'alert' } }]);
    // Every access is in the log: fetches (the cache's TTL ran out on the way) as events, hits in summaries.
    const hits = recs.filter((r) => 'summary' in r).reduce((n, r) => n + (r['summary'] as AuditHitSummary).count, 0);
    const fetches = recs.filter((r) => (r['event'] as AuditEvent | undefined)?.action === 'resolve').length;
    expect(hits + fetches).toBe(59);
    expect((await verifyAuditLog(path, { hmacKey: key })).ok).toBe(true);
  });

  it('fail-closed: once no sink could write the summaries, cache hits are denied', async () => {
    const errors: unknown[] = [];
    const sink = { write: () => {}, writeSummary: () => Promise.reject(new Error('disk full')) };
    const { secrets, clock } = client({ audit: sink, auditSummaryIntervalMs: 1_000 });
    secrets.on('audit-error', (e) => void errors.push(e));
    await secrets.get(REF);
    await secrets.get(REF);
    clock.advance(1_000);
    await secrets.get(REF); // writes the first summary, which fails
    await new Promise((r) => setImmediate(r));
    await expect(secrets.get(REF)).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(errors.length).toBeGreaterThan(0);
    await secrets.close();
  });
});

describe('summaries in the log', () => {
  const summary = (over: Partial<AuditHitSummary> = {}): AuditHitSummary => ({
    identity: 'orders-sync', environment: 'prod', ref: REF, provider: 'mock', version: '3', count: 7,
    first: '2026-01-01T02:00:00.000Z', last: '2026-01-01T02:00:30.000Z', ...over,
  });

  it('an edited count fails verification; a summary naming another identity fails; a bad summary is never written', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.writeSummary!(summary());
    await expect(sink.writeSummary!({ ...summary(), count: 0 })).rejects.toThrow(/count/);
    await expect(sink.writeSummary!({ ...summary(), first: '2026-01-01T03:00:00.000Z' })).rejects.toThrow(/first/);
    await sink.close();
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 1 });
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"count":7', '"count":9'));
    expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 1, reason: expect.stringMatching(/MAC mismatch/) });

    const other = join(dir, 'other.jsonl');
    const two = fileAuditSink(other, { hmacKey: key });
    await two.writeSummary!(summary());
    await two.writeSummary!(summary({ identity: 'billing' }));
    await two.close();
    expect(await verifyAuditLog(other, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 2, reason: expect.stringMatching(/summary names another identity/) });
  });

  it('audit summary counts a summary as its hits', async () => {
    const key = hmacKey();
    const keyFile = join(dir, 'audit.key');
    await writeFile(keyFile, key);
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.writeSummary!(summary({ count: 7 }));
    await sink.writeSummary!(summary({ count: 5, first: '2026-01-01T02:01:00.000Z', last: '2026-01-01T02:01:30.000Z' }));
    await sink.close();
    let stdout = '';
    const code = await runAuditCommand(['summary', path, '--key-file', keyFile, '--json'], { stdout: (s) => void (stdout += s), stderr: () => {}, env: {} });
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.totals).toMatchObject({ accesses: 12 });
    expect(out.rows).toMatchObject([{ ref: REF, accesses: 12, served: 12, cacheHits: 12 }]);
    expect(out).toMatchObject({ first: '2026-01-01T02:00:00.000Z', last: '2026-01-01T02:01:30.000Z' });
  });
});
