// `connector-secrets audit verify|summary --postgres URL`: in-process, and once as the real command.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgresAuditSink } from '../../src/audit/postgresAuditSink.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { runReportCommand } from '../../src/cli/report.js';
import { event, hmacKey } from '../audit/helpers.js';
import { testPool, uniqueTable } from '../audit/pgHelpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
// Trust auth ignores the password; it stands for one that must never be printed.
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const URL_WITH_PASSWORD = `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test`;

let pool: pg.Pool;
let table: string;
let key: string;
beforeAll(() => {
  pool = testPool(2);
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

async function audit(args: string[]) {
  const out = { stdout: '', stderr: '' };
  const code = await runAuditCommand(args, { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s), env: { CONNECTOR_SECRETS_AUDIT_KEY: key } });
  expect(out.stdout + out.stderr).not.toContain(PASSWORD);
  return { code, ...out };
}

async function chain(identity: string, records: Parameters<typeof event>[0][], close = true): Promise<string> {
  const sink = postgresAuditSink({ pool, hmacKey: key, table });
  for (const r of records) await sink.write(event({ identity, ...r }));
  if (close) await sink.close();
  return sink.logId;
}

describe('audit verify --postgres', () => {
  it('verifies every chain (exit 0), reports a tampered one by chain and row (exit 1), never printing the URL credentials', async () => {
    const a = await chain('orders-sync', [{}, {}, {}]);
    const b = await chain('billing-sync', [{}, {}]);
    let r = await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--table', table, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; count: number; postgres: string; logs: { logId: string; ok: boolean; count: number; identity: string }[] };
    expect(json).toMatchObject({ ok: true, count: 5, postgres: 'postgres://127.0.0.1:5432/test', table });
    expect(json.logs.map((l) => [l.logId, l.count, l.identity]).sort()).toEqual([[a, 3, 'orders-sync'], [b, 2, 'billing-sync']].sort());

    await pool.query(`UPDATE "${table}" SET line = replace(line, '"latencyMs":3', '"latencyMs":4') WHERE log_id = $1 AND seq = 2`, [b]);
    r = await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--table', table]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`ok: chain ${a} (orders-sync@prod): 3 events verified`);
    expect(r.stdout).toContain(`INVALID: chain ${b} (billing-sync@prod): row 2: MAC mismatch`);
    expect(r.stdout).toMatch(/INVALID: postgres:\/\/127\.0\.0\.1:5432\/test table \S+: 2 chain\(s\), 1 invalid, 4 events verified/);
  });

  it('an open chain (writer still running or killed) fails without --allow-open and verifies with it', async () => {
    const open = await chain('orders-sync', [{}, {}], false);
    let r = await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--table', table]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`INVALID: chain ${open} (orders-sync@prod): row 3: the chain does not end with a signed checkpoint`);
    r = await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--table', table, '--allow-open']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok: chain ${open} (orders-sync@prod): 2 events verified (open: no closing checkpoint)`);
  });

  it('usage errors: FILE with --postgres, --table without it, --anchor with --postgres, a non-postgres URL', async () => {
    expect((await audit(['verify', 'a.jsonl', '--postgres', URL_WITH_PASSWORD])).code).toBe(2);
    expect((await audit(['verify', 'a.jsonl', '--table', 't'])).code).toBe(2);
    expect((await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--anchor', 'x'])).code).toBe(2);
    const r = await audit(['verify', '--postgres', 'mysql://x@y/z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--postgres must be a postgres:// URL');
    expect((await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--table', 'bad-name!'])).code).toBe(2);
  });

  it('a missing table does not verify (exit 1)', async () => {
    const r = await audit(['verify', '--postgres', URL_WITH_PASSWORD, '--table', table]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('does not exist');
  });
});

describe('audit summary --postgres', () => {
  it('sums accesses over every chain after verifying them, and refuses a tampered table', async () => {
    await chain('orders-sync', [{ ref: 'secret://db/a' }, { ref: 'secret://db/a', action: 'cache-hit' }, { ref: 'secret://db/b', outcome: 'denied', code: 'POLICY_DENIED' }]);
    await chain('billing-sync', [{ ref: 'secret://db/a' }]);
    let r = await audit(['summary', '--postgres', URL_WITH_PASSWORD, '--table', table, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { verified: boolean; events: number; file: string; totals: Record<string, number>; rows: { identity: string; ref: string; accesses: number; cacheHits: number; denials: number }[] };
    expect(json).toMatchObject({ verified: true, events: 4, file: `postgres:${table}`, totals: { accesses: 4, denials: 1 } });
    expect(json.rows).toContainEqual(expect.objectContaining({ identity: 'orders-sync', ref: 'secret://db/a', accesses: 2, cacheHits: 1 }));
    expect(json.rows).toContainEqual(expect.objectContaining({ identity: 'billing-sync', ref: 'secret://db/a', accesses: 1 }));

    // One chain's middle row (the other chain's seq 2 is its checkpoint: which chain is read
    // first depends on the random log ids, so only one is touched).
    await pool.query(`DELETE FROM "${table}" WHERE seq = 2 AND identity = 'orders-sync'`);
    r = await audit(['summary', '--postgres', URL_WITH_PASSWORD, '--table', table]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[AUDIT_INVALID\]: postgres:\S+ does not verify \(chain \w+ row 2: sequence number 3 where 2 was expected/);
    expect(r.stdout).toBe('');
  });

  it('as the real command (node + tsx, src/cli/main.ts)', async () => {
    await chain('orders-sync', [{}, {}]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'verify', '--postgres', URL_WITH_PASSWORD, '--table', table], {
      cwd: ROOT,
      env: { ...process.env, CONNECTOR_SECRETS_AUDIT_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => void (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => void (out += c));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(out).toMatch(/^ok: chain \w+ \(orders-sync@prod\): 2 events verified\nok: postgres:\/\/127\.0\.0\.1:5432\/test table \S+: 1 chain\(s\), 0 invalid, 2 events verified\n$/);
    expect(out).not.toContain(PASSWORD);
    expect(code).toBe(0);
  }, 60_000);
});

describe('report --postgres', () => {
  it('reports every chain of a table as one log whose figures are those of audit summary --postgres; a tampered table is FAILED and not counted', async () => {
    await chain('orders-sync', [{ ref: 'secret://db/a' }, { ref: 'secret://db/a', action: 'cache-hit' }, { ref: 'secret://db/b', outcome: 'denied', code: 'POLICY_DENIED' }]);
    await chain('billing-sync', [{ ref: 'secret://db/a' }, { ref: 'secret://db/c', outcome: 'failure', code: 'PROVIDER_UNAVAILABLE' }]);
    const dir = await mkdtemp(join(tmpdir(), 'cs-report-pg-'));
    try {
      const out = join(dir, 'report.html');
      const run = async () => {
        const io = { stdout: '', stderr: '' };
        const code = await runReportCommand(['--postgres', URL_WITH_PASSWORD, '--table', table, '--out', out], {
          stdout: (s) => void (io.stdout += s),
          stderr: (s) => void (io.stderr += s),
          env: { CONNECTOR_SECRETS_AUDIT_KEY: key },
          cwd: dir,
        });
        expect(io.stdout + io.stderr).not.toContain(PASSWORD);
        return { code, ...io, html: await readFile(out, 'utf8') };
      };
      const summary = JSON.parse((await audit(['summary', '--postgres', URL_WITH_PASSWORD, '--table', table, '--json'])).stdout) as { events: number; totals: Record<string, number>; rows: unknown[] };
      const r = await run();
      expect(r.code, r.stderr).toBe(0);
      const value = (testid: string) => Number(new RegExp(`data-testid="${testid}"[^>]*?data-value="([^"]*)"`).exec(r.html)![1]);
      expect(value('log-0-events')).toBe(summary.events);
      for (const k of ['accesses', 'denials', 'failures', 'rotations', 'anomalies']) expect(value(`total-${k}`), k).toBe(summary.totals[k]);
      expect(summary.totals).toMatchObject({ accesses: 5, denials: 1, failures: 1 });
      expect(r.html).toContain('data-testid="verify-0" data-status="verified"');
      expect(r.html).not.toContain(PASSWORD);

      await pool.query(`DELETE FROM "${table}" WHERE seq = 2 AND identity = 'orders-sync'`);
      const bad = await run();
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/INVALID: postgres:\/\/127\.0\.0\.1:5432\/test table \S+: line 2: chain \w+: sequence number 3 where 2 was expected/);
      expect(bad.html).toContain('data-testid="verify-0" data-status="invalid"');
      expect(Number(/data-testid="total-accesses"[^>]*?data-value="(\d+)"/.exec(bad.html)![1])).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
