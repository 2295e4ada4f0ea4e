// postgresAuditSink and verifyPostgresAuditLog against the real PostgreSQL on loopback.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgresAuditSink } from '../../src/audit/postgresAuditSink.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { verifyPostgresAuditLog } from '../../src/audit/verifyPostgresAuditLog.js';
import type { AuditQueryable } from '../../src/audit/pgTable.js';
import { createSecrets } from '../../src/client.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';
import { event, hmacKey } from './helpers.js';
import { rowsOf, testPool, uniqueTable } from './pgHelpers.js';

let pool: pg.Pool;
let table: string;
let key: string;
beforeAll(() => {
  pool = testPool(8);
});
afterAll(async () => {
  await pool.end();
});
beforeEach(() => {
  table = uniqueTable();
  key = hmacKey();
});
afterEach(async () => {
  await pool.query(`DROP TABLE IF EXISTS "${table}"`);
});

/** The real pool, counting INSERT statements and their rows. */
function counting(): { db: AuditQueryable; inserts: number[] } {
  const inserts: number[] = [];
  return {
    inserts,
    db: {
      query: async (q: string | { text: string; values?: unknown[]; name?: string }, values?: unknown[]) => {
        if (typeof q === 'object' && q.text.includes('INSERT')) inserts.push((q.values![1] as unknown[]).length);
        return typeof q === 'string' ? pool.query(q, values) : pool.query(q as pg.QueryConfig);
      },
    },
  };
}

const REF = 'vault://kv/prod/orders-api';

async function writeChain(identity: string, n: number, t = table) {
  const sink = postgresAuditSink({ pool, hmacKey: key, table: t });
  for (let i = 0; i < n; i++) await sink.write(event({ identity, ref: `secret://${identity}/s${i}` }));
  await sink.close();
  return sink.logId;
}

describe('postgresAuditSink through the client', () => {
  it('writes the same HMAC-chained lines as fileAuditSink, with indexed columns, and a checkpoint row on close', async () => {
    const mock = fromMock();
    const value = generated();
    mock.set(REF, value, { version: '7' });
    const sink = postgresAuditSink({ pool, hmacKey: key, table });
    const secrets = createSecrets({ environment: 'prod', identity: 'orders-sync', providers: [mock], strictEnvironment: false, audit: sink, auditCacheHits: 'each' });
    expect((await secrets.get(REF)).reveal()).toBe(value);
    await Promise.all(Array.from({ length: 20 }, () => secrets.get(REF)));
    await secrets.close();

    const rows = await rowsOf(pool, table);
    expect(rows).toHaveLength(22); // 1 resolve, 20 cache hits, 1 checkpoint
    expect(new Set(rows.map((r) => r.log_id))).toEqual(new Set([sink.logId]));
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(rows[0]).toMatchObject({ kind: 'event', identity: 'orders-sync', ref: REF, action: 'resolve', outcome: 'success' });
    expect(rows[1]).toMatchObject({ kind: 'event', action: 'cache-hit' });
    expect(rows[21]).toMatchObject({ kind: 'checkpoint', identity: 'orders-sync', ref: null, action: null });
    expect(rows[0]!.ts).toBeInstanceOf(Date);
    expect(JSON.stringify(rows)).not.toContain(value);

    // The stored lines are exactly a file log's lines: the file verifier accepts them as a file.
    const dir = await mkdtemp(join(tmpdir(), 'cs-pg-audit-'));
    try {
      await writeFile(join(dir, 'chain.jsonl'), rows.map((r) => `${r.line}\n`).join(''));
      expect(await verifyAuditLog(join(dir, 'chain.jsonl'), { hmacKey: key, identity: 'orders-sync', environment: 'prod' })).toEqual({ ok: true, count: 21 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const result = await verifyPostgresAuditLog({ pool, hmacKey: key, table });
    expect(result).toEqual({ ok: true, count: 21, logs: [{ ok: true, count: 21, logId: sink.logId, closed: true, identity: 'orders-sync', environment: 'prod' }] });
    // Under another key nothing verifies.
    expect((await verifyPostgresAuditLog({ pool, hmacKey: hmacKey(), table })).logs[0]).toMatchObject({ ok: false, firstInvalidLine: 1, reason: expect.stringContaining('MAC mismatch') });
  });

  it('group commit: concurrent records share multi-row INSERTs, in order, one statement per batch', async () => {
    const { db, inserts } = counting();
    const sink = postgresAuditSink({ pool: db, hmacKey: key, table, maxBatch: 64 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => sink.write(event({ identity: 'batcher', ref: `secret://b/${i}` }))));
    await sink.close();
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(301);
    expect(inserts.length).toBeLessThan(301 / 4); // records really shared statements
    expect(Math.max(...inserts)).toBeLessThanOrEqual(64); // maxBatch bounds one INSERT
    const rows = await rowsOf(pool, table);
    expect(rows.slice(0, 300).map((r) => r.ref)).toEqual(Array.from({ length: 300 }, (_, i) => `secret://b/${i}`));
    expect((await verifyPostgresAuditLog({ pool, hmacKey: key, table })).ok).toBe(true);
  });

  it('durable: false commits each batch with synchronous_commit off, for its own transaction only', async () => {
    const { db, inserts } = counting();
    const sink = postgresAuditSink({ pool: db, hmacKey: key, table, durable: false });
    await Promise.all(Array.from({ length: 50 }, () => sink.write(event({ identity: 'relaxed' }))));
    await sink.close();
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(51);
    expect(await verifyPostgresAuditLog({ pool, hmacKey: key, table })).toMatchObject({ ok: true, count: 50 });
    // SET LOCAL semantics: no connection of the pool keeps the relaxed setting.
    const settings = await Promise.all(Array.from({ length: 8 }, () => pool.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")));
    expect(new Set(settings.map((r) => r.rows[0]!.s))).toEqual(new Set(['on']));
  });

  it('creates the table safely when many writers start at once, each writing its own chain', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => writeChain(`writer-${i}`, 5)));
    const result = await verifyPostgresAuditLog({ pool, hmacKey: key, table });
    expect(result.ok).toBe(true);
    expect(result.count).toBe(30);
    expect(result.logs.map((l) => l.logId).sort()).toEqual([...ids].sort());
    expect(result.logs.map((l) => l.identity).sort()).toEqual(['writer-0', 'writer-1', 'writer-2', 'writer-3', 'writer-4', 'writer-5']);
  });

  it('a failed INSERT rejects every waiter of its batch under fail-closed, denies the accesses, and breaks the sink', async () => {
    const mock = fromMock();
    const value = generated();
    mock.set(REF, value);
    const sink = postgresAuditSink({ pool, hmacKey: key, table });
    const secrets = createSecrets({
      environment: 'prod', identity: 'orders-sync', providers: [mock], strictEnvironment: false, audit: sink, auditCacheHits: 'each',
    });
    await secrets.get(REF);
    await pool.query(`DROP TABLE "${table}"`); // the next INSERT fails
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => secrets.get(REF)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(JSON.stringify(results.map((r) => String((r as PromiseRejectedResult).reason)))).not.toContain(value);
    await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('the sink is broken') });
    await secrets.close();
  });

  it('a failed INSERT rejects every record of its batch, and only after it failed', async () => {
    const { db, inserts } = counting();
    const sink = postgresAuditSink({ pool: db, hmacKey: key, table });
    await sink.write(event());
    await pool.query(`DROP TABLE "${table}"`);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => sink.write(event())));
    expect(inserts).toEqual([1, 20]); // the 20 records were one batch, one INSERT
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 'rejected'));
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('INSERT of 20 record(s) failed') });
    await sink.close(); // no checkpoint on a broken chain, and no throw
    expect(inserts).toEqual([1, 20]);
  });

  it("under 'warn' a failed INSERT lets the accesses go on", async () => {
    const mock = fromMock();
    mock.set(REF, generated());
    const sink = postgresAuditSink({ pool, hmacKey: key, table });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], audit: sink, auditFailure: 'warn', auditCacheHits: 'each' });
    await secrets.get(REF);
    await pool.query(`DROP TABLE "${table}"`);
    await expect(secrets.get(REF)).resolves.toBeDefined();
    await secrets.close();
  });

  it('refuses a table name that is not a plain identifier, and a missing pool', () => {
    expect(() => postgresAuditSink({ pool, hmacKey: key, table: 'audit"; DROP TABLE x; --' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => postgresAuditSink({ pool: {} as AuditQueryable, hmacKey: key })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('verifyPostgresAuditLog detects tampering', () => {
  async function twoChains() {
    const a = await writeChain('alpha', 6);
    const b = await writeChain('beta', 6);
    return { a, b };
  }
  const verify = (requireCheckpoint = true) => verifyPostgresAuditLog({ pool, hmacKey: key, table, requireCheckpoint });
  const chain = async (id: string, requireCheckpoint = true) => (await verify(requireCheckpoint)).logs.find((l) => l.logId === id)!;

  it('UPDATE of a row\'s bytes', async () => {
    const { a, b } = await twoChains();
    await pool.query(`UPDATE "${table}" SET line = replace(line, 'secret://alpha/s2', 'secret://alpha/sX') WHERE log_id = $1 AND seq = 3`, [a]);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.logs.find((l) => l.logId === a)).toMatchObject({ ok: false, firstInvalidLine: 3, count: 2, reason: expect.stringContaining('MAC mismatch') });
    expect(result.logs.find((l) => l.logId === b)).toMatchObject({ ok: true, count: 6 });
  });

  it('a row stripped of its prev and mac (a format 3 line a file sink may write unsealed): every row carries its own MAC', async () => {
    const { a } = await twoChains();
    await pool.query(
      `UPDATE "${table}" SET line = regexp_replace(regexp_replace(line, ',"prev":"[0-9a-f]{64}"', ''), ',"mac":"[0-9a-f]{64}"}$', '}') WHERE log_id = $1 AND seq = 3`,
      [a],
    );
    expect(await chain(a)).toMatchObject({ ok: false, firstInvalidLine: 3, count: 2, reason: expect.stringContaining('the row carries no MAC') });
  });

  it('DELETE of a middle row', async () => {
    const { a } = await twoChains();
    await pool.query(`DELETE FROM "${table}" WHERE log_id = $1 AND seq = 4`, [a]);
    expect(await chain(a)).toMatchObject({ ok: false, firstInvalidLine: 4, reason: expect.stringContaining('sequence number 5 where 4 was expected') });
  });

  it('DELETE of the tail (checkpoint and last records)', async () => {
    const { a } = await twoChains();
    await pool.query(`DELETE FROM "${table}" WHERE log_id = $1 AND seq >= 5`, [a]);
    expect(await chain(a)).toMatchObject({ ok: false, closed: false, count: 4, firstInvalidLine: 5, reason: expect.stringContaining('does not end with a signed checkpoint') });
    // Accepted as an open chain only when asked: the prefix itself is intact.
    expect(await chain(a, false)).toMatchObject({ ok: true, closed: false, count: 4 });
  });

  it('rows swapped between chains (line and columns alike, or the line only)', async () => {
    const { a, b } = await twoChains();
    // Move whole rows: a's row 3 becomes b's row 3 and back.
    await pool.query(
      `UPDATE "${table}" t SET line = o.line FROM "${table}" o WHERE t.seq = 3 AND o.seq = 3 AND t.log_id <> o.log_id`,
    );
    const result = await verify();
    expect(result.logs.find((l) => l.logId === a)).toMatchObject({ ok: false, firstInvalidLine: 3, reason: expect.stringContaining('chain broken') });
    expect(result.logs.find((l) => l.logId === b)).toMatchObject({ ok: false, firstInvalidLine: 3 });
  });

  it('a row whose log_id column was changed to move it into another chain', async () => {
    const { a, b } = await twoChains();
    await pool.query(`UPDATE "${table}" SET log_id = $2, seq = 100 WHERE log_id = $1 AND seq = 2`, [a, b]);
    expect(await chain(a)).toMatchObject({ ok: false, firstInvalidLine: 2 });
    expect(await chain(b)).toMatchObject({ ok: false, firstInvalidLine: 8, reason: expect.stringContaining('sequence number 2 where 8 was expected') });
  });

  it('duplicate key injection: a copy of a row under a dropped primary key', async () => {
    const { a } = await twoChains();
    await pool.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${table}_pkey"`);
    await pool.query(`INSERT INTO "${table}" SELECT * FROM "${table}" WHERE log_id = $1 AND seq = 2`, [a]);
    expect(await chain(a)).toMatchObject({ ok: false, firstInvalidLine: 2, reason: expect.stringContaining('two rows hold seq 2') });
  });

  it('the primary key itself refuses a second row of one (log_id, seq)', async () => {
    const { a } = await twoChains();
    await expect(pool.query(`INSERT INTO "${table}" SELECT * FROM "${table}" WHERE log_id = $1 AND seq = 2`, [a])).rejects.toMatchObject({ code: '23505' });
  });

  it('a row longer than any audit line is refused without being fetched whole', async () => {
    const { a } = await twoChains();
    await pool.query(`UPDATE "${table}" SET line = repeat('x', 2 * 1024 * 1024) WHERE log_id = $1 AND seq = 2`, [a]);
    expect(await chain(a)).toMatchObject({ ok: false, firstInvalidLine: 2, count: 1, reason: expect.stringContaining('longer than 1048576 bytes') });
  });

  it('a chain longer than one page verifies across pages, in seq order', async () => {
    const sink = postgresAuditSink({ pool, hmacKey: key, table, maxBatch: 700 });
    await Promise.all(Array.from({ length: 2_500 }, (_, i) => sink.write(event({ identity: 'paged', ref: `secret://p/${i}` }))));
    await sink.close();
    expect(await verify()).toMatchObject({ ok: true, count: 2_500, logs: [{ ok: true, closed: true, count: 2_500 }] });
    await pool.query(`DELETE FROM "${table}" WHERE seq = 1500`);
    expect(await verify()).toMatchObject({ ok: false, logs: [{ ok: false, firstInvalidLine: 1500, count: 1499 }] });
  });

  it('a missing table and an empty one do not verify', async () => {
    expect(await verify()).toMatchObject({ ok: false, logs: [], reason: expect.stringContaining('does not exist') });
    const sink = postgresAuditSink({ pool, hmacKey: key, table });
    await sink.write(event());
    await sink.close();
    await pool.query(`DELETE FROM "${table}"`);
    expect(await verify()).toMatchObject({ ok: false, logs: [], reason: expect.stringContaining('holds no audit rows') });
  });
});
