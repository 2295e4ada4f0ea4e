/**
 * Several writer processes into one table, each with its own chain, and a writer SIGKILLed in the
 * middle of its batches: its chain is a verifiable prefix without a checkpoint (every access it
 * reported as returned is in it, since an access waits for the INSERT holding its record).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyPostgresAuditLog } from '../../src/audit/verifyPostgresAuditLog.js';
import { hmacKey } from './helpers.js';
import { PG_URL, testPool, uniqueTable } from './pgHelpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WRITER = join(ROOT, 'test/fixtures/audit/pgWriter.ts');

let pool: pg.Pool;
const table = uniqueTable();
beforeAll(() => {
  pool = testPool(2);
});
afterEach(async () => {
  await pool.query(`DROP TABLE IF EXISTS "${table}"`);
});
afterAll(async () => {
  await pool.end();
});

function writer(key: string, identity: string, mode: 'close' | 'loop', records = 50) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, PG_URL, table, key, identity, mode, String(records)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => void (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => void (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, signal) => done({ code, signal })));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('postgresAuditSink across processes', () => {
  it('two writer processes keep one chain each; a SIGKILLed third leaves a verifiable prefix without a checkpoint', async () => {
    const key = hmacKey();
    const a = writer(key, 'orders-sync', 'close', 300);
    const b = writer(key, 'billing-sync', 'close', 200);
    const k = writer(key, 'killed-sync', 'loop');
    // Kill the looping writer once it reported a few rounds (its batches are in flight then).
    await new Promise<void>((done, failed) => {
      const timer = setInterval(() => {
        if ((k.out().match(/returned/g) ?? []).length >= 3) {
          clearInterval(timer);
          k.child.kill('SIGKILL');
          done();
        }
      }, 5);
      void k.exited.then(() => {
        clearInterval(timer);
        failed(new Error(`the looping writer exited: ${k.err()}`));
      });
    });
    const [ra, rb, rk] = await Promise.all([a.exited, b.exited, k.exited]);
    expect(ra).toEqual({ code: 0, signal: null });
    expect(rb).toEqual({ code: 0, signal: null });
    expect(rk.signal).toBe('SIGKILL');
    const [, idA] = /done (\w+) 300/.exec(a.out())!;
    const [, idB] = /done (\w+) 200/.exec(b.out())!;
    const reports = [...k.out().matchAll(/returned (\w+) (\d+)/g)];
    const idK = reports[0]![1]!;
    const returned = Number(reports.at(-1)![2]);

    const strict = await verifyPostgresAuditLog({ pool, hmacKey: key, table });
    expect(strict.ok).toBe(false);
    const byId = new Map(strict.logs.map((l) => [l.logId, l]));
    expect(strict.logs).toHaveLength(3);
    expect(byId.get(idA!)).toMatchObject({ ok: true, closed: true, count: 300, identity: 'orders-sync' });
    expect(byId.get(idB!)).toMatchObject({ ok: true, closed: true, count: 200, identity: 'billing-sync' });
    // The killed writer's chain: intact up to its last row, but not closed.
    expect(byId.get(idK)).toMatchObject({ ok: false, closed: false, reason: expect.stringContaining('does not end with a signed checkpoint') });

    const open = await verifyPostgresAuditLog({ pool, hmacKey: key, table, requireCheckpoint: false });
    expect(open.ok).toBe(true);
    const killed = open.logs.find((l) => l.logId === idK)!;
    expect(killed).toMatchObject({ ok: true, closed: false, identity: 'killed-sync' });
    // Every access the writer saw return is in the table (its count includes the first resolve).
    expect(killed.count).toBeGreaterThanOrEqual(returned);
  }, 90_000);
});
