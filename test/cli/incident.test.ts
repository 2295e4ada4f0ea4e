// `connector-secrets incident quarantine|lift` against a local store and real audit logs (file and
// PostgreSQL): the real command as a child process, and in-process for the cases.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { postgresAuditSink } from '../../src/audit/postgresAuditSink.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { verifyPostgresAuditLog } from '../../src/audit/verifyPostgresAuditLog.js';
import { runIncidentCommand } from '../../src/cli/incident.js';
import { runLocalCommand } from '../../src/cli/local.js';
import type { AuditSink } from '../../src/audit/event.js';
import { createSecrets } from '../../src/client.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import type { IncidentReport } from '../../src/incident/report.js';
import { PG_URL, rowsOf, testPool, uniqueTable } from '../audit/pgHelpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
let storePath: string;
let keyPath: string;
let auditKey: string;
const values: string[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-incident-'));
  storePath = join(dir, 'secrets', 'dev.enc.json');
  keyPath = join(dir, 'audit.key');
  auditKey = randomBytes(32).toString('hex');
  await writeFile(keyPath, `${auditKey}\n`, { mode: 0o600 });
  const quiet = { stdout: () => undefined, stderr: () => undefined, env: {} };
  expect(await runLocalCommand(['init', '--env', 'dev', '--path', storePath], { ...quiet, stdin: Readable.from([]) })).toBe(0);
  values.length = 0;
  for (const name of ['orders-api', 'billing-api', 'other-api']) {
    const value = randomBytes(18).toString('base64url');
    values.push(value);
    expect(await runLocalCommand(['set', name, '--env', 'dev', '--path', storePath], { ...quiet, stdin: Readable.from([Buffer.from(value)]) })).toBe(0);
  }
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const store = () => fromLocalStore({ path: storePath, keyFile: join(dir, 'secrets', 'dev.key'), environment: 'dev' });

/** A connector run: `identity` reads `refs` (each `times` times) through a real client audited into `audit`. */
async function connectorRun(identity: string, refs: string[], times: number, audit: AuditSink): Promise<void> {
  const secrets = createSecrets({ environment: 'dev', identity, providers: [store()], audit, env: {} });
  for (let i = 0; i < times; i++) for (const ref of refs) await secrets.get(ref);
  await secrets.close();
}

async function current(name: string): Promise<{ value: string; version: string }> {
  const secrets = createSecrets({ environment: 'dev', providers: [store()], cache: false, env: {} });
  const s = await secrets.get(`local://${name}`);
  const out = { value: s.reveal(), version: s.version! };
  await secrets.close();
  return out;
}

async function incident(args: string[], now?: () => number) {
  const out = { stdout: '', stderr: '' };
  const code = await runIncidentCommand(args, { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s), env: {}, ...(now === undefined ? {} : { now }) });
  return { code, ...out };
}

/** Every file under dir as text, for the no-value check. */
async function everything(): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && !entry.name.endsWith('.enc.json')) text += await readFile(join(entry.parentPath, entry.name), 'utf8');
  }
  return text;
}

async function reportOf(reportDir: string): Promise<{ json: IncidentReport; md: string }> {
  const files = (await readdir(reportDir)).sort();
  expect(files).toHaveLength(2);
  expect(files[0]).toMatch(/^incident-orders-sync-\d{8}T\d{6}Z\.json$/);
  expect(files[1]).toBe(files[0]!.replace(/\.json$/, '.md'));
  return { json: JSON.parse(await readFile(join(reportDir, files[0]!), 'utf8')) as IncidentReport, md: await readFile(join(reportDir, files[1]!), 'utf8') };
}

describe('connector-secrets incident quarantine', () => {
  it('as the real command: lists what the identity read, rotates it, writes the report, audits every step, and prints no value', async () => {
    const ordersLog = join(dir, 'orders-sync.jsonl');
    const billingLog = join(dir, 'billing-sync.jsonl');
    await connectorRun('orders-sync', ['local://orders-api', 'local://billing-api'], 3, fileAuditSink(ordersLog, { hmacKey: auditKey }));
    await connectorRun('billing-sync', ['local://other-api'], 2, fileAuditSink(billingLog, { hmacKey: auditKey }));
    const before = { orders: await current('orders-api'), billing: await current('billing-api'), other: await current('other-api') };
    const reportDir = join(dir, 'reports');
    const incidentsLog = join(dir, 'incidents.jsonl');

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'incident', 'quarantine', '--identity', 'orders-sync', '--reason', 'INC-7: token seen in a paste', '--env', 'dev',
        '--since', '1h', '--audit', ordersLog, '--audit', billingLog, '--audit-key-file', keyPath, '--audit-file', incidentsLog, '--operator', 'oncall',
        '--rotate', '--store', storePath, '--report', reportDir],
      { cwd: ROOT, env: { PATH: process.env['PATH'] }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => void (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => void (stderr += c));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/ ok quarantine: identity orders-sync quarantined in this process; recorded in the audit log /);
    expect(stdout).toMatch(/ ok fleet: no fleet bus configured: quarantined was not sent to other processes/);
    expect(stdout).toMatch(/ ok read-audit: 2 source\(s\) read, 0 invalid; 2 secret\(s\) read by orders-sync since /);
    expect(stdout).toMatch(/ ok rotate: 2 of 2 secret\(s\) rotated/);

    const { json, md } = await reportOf(reportDir);
    expect(json).toMatchObject({ kind: 'quarantine', identity: 'orders-sync', reason: 'INC-7: token seen in a paste', environment: 'dev' });
    expect(json.steps.map((s) => [s.step, s.ok])).toEqual([['quarantine', true], ['fleet', true], ['read-audit', true], ['leases', true], ['rotate', true]]);
    for (const s of json.steps) expect(Date.parse(s.at)).toBeGreaterThanOrEqual(Date.parse(json.startedAt));
    expect(json.sources.map((s) => [s.source, s.verified, s.ok])).toEqual([[ordersLog, true, true], [billingLog, true, true]]);
    // 3 reads each: one provider fetch and two cache hits (written as a summary).
    expect(json.accessed).toEqual([
      expect.objectContaining({ ref: 'local://billing-api', count: 3, environments: ['dev'], providers: ['local'], versions: [before.billing.version] }),
      expect.objectContaining({ ref: 'local://orders-api', count: 3, environments: ['dev'], providers: ['local'], versions: [before.orders.version] }),
    ]);
    expect(json.accessed.map((a) => a.ref)).not.toContain('local://other-api'); // another identity's read
    const after = { orders: await current('orders-api'), billing: await current('billing-api'), other: await current('other-api') };
    expect(json.rotated).toEqual([
      { ref: 'local://billing-api', ok: true, previousVersion: before.billing.version, version: after.billing.version },
      { ref: 'local://orders-api', ok: true, previousVersion: before.orders.version, version: after.orders.version },
    ]);
    expect(after.orders.value).not.toBe(before.orders.value);
    expect(after.orders.value).toHaveLength(32);
    expect(after.other).toEqual(before.other); // not read by orders-sync: not rotated
    expect(json.leases).toEqual({ revoked: [], notRevoked: [] });
    expect(md).toContain('# Incident: quarantine of identity orders-sync');
    expect(md).toContain(`| local://orders-api | 3 |`);
    expect(md).toContain(`- local://orders-api: version ${before.orders.version} -> ${after.orders.version}`);

    // The incident's own steps are in its audit log, which verifies.
    expect(await verifyAuditLog(incidentsLog, { hmacKey: auditKey })).toMatchObject({ ok: true, count: 3 });
    const records = (await readFile(incidentsLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { event?: { action: string; identity: string; reason?: string } });
    expect(records.slice(0, 3).map((r) => [r.event!.action, r.event!.identity])).toEqual([['quarantine', 'oncall'], ['rotate', 'oncall'], ['rotate', 'oncall']]);
    expect(records[0]!.event!.reason).toBe('identity orders-sync quarantined: INC-7: token seen in a paste');

    const all = stdout + stderr + (await everything());
    for (const v of [...values, after.orders.value, after.billing.value]) expect(all).not.toContain(v);
  }, 60_000);

  it('a log whose writer was once killed is read, every access counted, and its resumed session named', async () => {
    const log = join(dir, 'orders-sync-killed.jsonl');
    await connectorRun('orders-sync', ['local://orders-api'], 1, fileAuditSink(log, { hmacKey: auditKey }));
    // What a SIGKILL leaves (no checkpoint); the connector's next run continues the log.
    await writeFile(log, (await readFile(log, 'utf8')).split('\n').slice(0, -2).map((l) => `${l}\n`).join(''));
    const killedLines = (await readFile(log, 'utf8')).split('\n').length - 1;
    await connectorRun('orders-sync', ['local://orders-api'], 2, fileAuditSink(log, { hmacKey: auditKey }));
    const r = await incident(['quarantine', '--identity', 'orders-sync', '--reason', 'INC-9', '--env', 'dev', '--audit', log, '--audit-key-file', keyPath, '--report', dir, '--json']);
    const json = JSON.parse(r.stdout) as IncidentReport;
    expect(json.sources).toEqual([expect.objectContaining({ source: log, verified: true, ok: true, detail: expect.stringContaining(`1 session(s) never closed (resumed at line(s) ${killedLines + 1})`) })]);
    expect(json.accessed).toEqual([expect.objectContaining({ ref: 'local://orders-api', count: 3 })]);
    expect(await incident(['lift', '--identity', 'orders-sync', '--reason', 'INC-9 done', '--env', 'dev', '--report', dir])).toMatchObject({ code: 0 });
  });

  it('a tampered audit log is reported and not read (exit 1); without --rotate nothing is rotated', async () => {
    const log = join(dir, 'orders-sync.jsonl');
    await connectorRun('orders-sync', ['local://orders-api'], 1, fileAuditSink(log, { hmacKey: auditKey }));
    const text = await readFile(log, 'utf8');
    await writeFile(log, text.replace('"latencyMs":', '"latencyMs":1'));
    const r = await incident(['quarantine', '--identity', 'orders-sync', '--reason', 'INC-8', '--env', 'dev', '--audit', log, '--audit-key-file', keyPath, '--report', dir, '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as IncidentReport & { files: { json: string } };
    expect(json.sources).toEqual([expect.objectContaining({ source: log, verified: true, ok: false, detail: expect.stringContaining('does not verify at line 1') })]);
    expect(json.accessed).toEqual([]);
    expect(json.rotated).toEqual([]);
    expect(json.steps.find((s) => s.step === 'read-audit')).toMatchObject({ ok: false });
    expect(JSON.parse(await readFile(json.files.json, 'utf8'))).toMatchObject({ identity: 'orders-sync', kind: 'quarantine' });
  });

  it('with a fleet publisher, the quarantine and each rotation are published (names and versions only); a failed publish leaves the rotation standing and says so', async () => {
    const log = join(dir, 'orders-sync.jsonl');
    await connectorRun('orders-sync', ['local://orders-api', 'local://billing-api'], 1, fileAuditSink(log, { hmacKey: auditKey }));
    for (const failing of [false, true]) {
      const sent: unknown[] = [];
      const publish = async (e: unknown) => {
        sent.push(e);
        if (failing && (e as { type: string }).type === 'rotated') throw Object.assign(new Error('bus down'), { code: 'PROVIDER_UNAVAILABLE' });
      };
      const out = { stdout: '', stderr: '' };
      const reportDir = join(dir, `reports-${failing}`);
      const code = await runIncidentCommand(
        ['quarantine', '--identity', 'orders-sync', '--reason', 'INC-11', '--env', 'dev', '--audit', log, '--audit-key-file', keyPath, '--rotate', '--store', storePath, '--report', reportDir, '--json'],
        { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), env: {}, publish },
      );
      const json = JSON.parse(out.stdout) as IncidentReport;
      expect(json.rotated.map((r) => r.ok)).toEqual([true, true]);
      const versions = Object.fromEntries(json.rotated.map((r) => [r.ref, r.version]));
      expect(sent).toEqual([
        { type: 'quarantined', identity: 'orders-sync', reason: 'INC-11' },
        ...json.rotated.map((r) => ({ type: 'rotated', ref: r.ref, version: versions[r.ref] })),
      ]);
      expect(json.rotated.map((r) => r.detail)).toEqual(failing ? [expect.stringMatching(/^rotated, but publishing to the fleet bus failed \(PROVIDER_UNAVAILABLE\)/), expect.any(String)] : ['published to the fleet bus', 'published to the fleet bus']);
      // A rotation the fleet did not hear of is a failed step: the exit code says so.
      expect(code).toBe(failing ? 1 : 0);
      for (const v of values) expect(out.stdout + out.stderr).not.toContain(v);
    }
  });

  it('leased refs from the records are listed as not revoked, with why', async () => {
    const log = join(dir, 'orders-sync.jsonl');
    const sink = fileAuditSink(log, { hmacKey: auditKey });
    const ts = new Date().toISOString();
    const base = { ts, identity: 'orders-sync', environment: 'dev', provider: 'vault', code: null, latencyMs: 1, version: null } as const;
    await sink.write({ ...base, seq: 1, action: 'resolve', ref: 'vault://database/creds/etl', outcome: 'success' });
    await sink.write({ ...base, seq: 2, action: 'renew', ref: 'vault://database/creds/etl', outcome: 'success' });
    await sink.close();
    const r = await incident(['quarantine', '--identity', 'orders-sync', '--reason', 'INC-9', '--env', 'dev', '--audit', log, '--audit-key-file', keyPath, '--report', dir, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as IncidentReport;
    expect(json.accessed).toEqual([expect.objectContaining({ ref: 'vault://database/creds/etl', count: 2, leased: true })]);
    expect(json.leases.notRevoked).toEqual([{ ref: 'vault://database/creds/etl', why: expect.stringContaining('audit records carry no lease id') }]);
  });

  it('reads a PostgreSQL audit table and records its own steps there', async () => {
    const pool = testPool(2);
    const table = uniqueTable();
    try {
      await connectorRun('orders-sync', ['local://orders-api'], 2, postgresAuditSink({ pool, hmacKey: auditKey, table }));
      await connectorRun('billing-sync', ['local://billing-api'], 1, postgresAuditSink({ pool, hmacKey: auditKey, table }));
      const r = await incident(['quarantine', '--identity', 'orders-sync', '--reason', 'INC-10', '--env', 'dev', '--postgres', PG_URL, '--table', table, '--audit-key-file', keyPath, '--report', dir, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout) as IncidentReport;
      expect(json.sources).toEqual([expect.objectContaining({ source: `postgres://127.0.0.1:5432/test table ${table}`, verified: true, ok: true })]);
      expect(json.accessed).toEqual([expect.objectContaining({ ref: 'local://orders-api', count: 2 })]);
      const rows = await rowsOf(pool, table);
      expect(rows.filter((x) => x.action === 'quarantine')).toHaveLength(1);
      expect((await verifyPostgresAuditLog({ pool, hmacKey: auditKey, table })).logs).toHaveLength(3);
      expect((await verifyPostgresAuditLog({ pool, hmacKey: auditKey, table })).ok).toBe(true);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.end();
    }
  });

  it('usage errors exit 2 naming what to fix', async () => {
    expect(await incident(['quarantine', '--reason', 'x', '--env', 'dev'])).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --identity') });
    expect(await incident(['quarantine', '--identity', 'a', '--env', 'dev'])).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --reason') });
    expect(await incident(['quarantine', '--identity', 'a', '--reason', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --env') });
    expect(await incident(['quarantine', '--identity', 'a', '--reason', 'x', '--env', 'prod'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--env prod needs an audit log') });
    expect(await incident(['quarantine', '--identity', 'a', '--reason', 'x', '--env', 'dev', '--since', 'yesterday'])).toMatchObject({ code: 2 });
    expect(await incident(['lift', '--identity', 'a', '--reason', 'x', '--env', 'dev', '--rotate'])).toMatchObject({ code: 2 });
    expect(await incident(['quarantine', '--identity', 'a', '--reason', 'x', '--env', 'dev', '--postgres', PG_URL])).toMatchObject({ code: 2, stderr: expect.stringContaining('pass --audit-key-file K') });
  });

  it('two incidents of the same second never overwrite each other\'s report', async () => {
    const at = Date.UTC(2026, 11, 1, 17, 30, 5, 120);
    const reportDir = join(dir, 'same-second');
    for (const reason of ['first', 'second']) {
      expect((await incident(['quarantine', '--identity', 'orders-sync', '--reason', reason, '--env', 'dev', '--report', reportDir], () => at)).code).toBe(0);
    }
    expect((await readdir(reportDir)).sort()).toEqual([
      'incident-orders-sync-20261201T173005Z-2.json', 'incident-orders-sync-20261201T173005Z-2.md',
      'incident-orders-sync-20261201T173005Z.json', 'incident-orders-sync-20261201T173005Z.md',
    ]);
    const first = JSON.parse(await readFile(join(reportDir, 'incident-orders-sync-20261201T173005Z.json'), 'utf8')) as IncidentReport;
    const second = JSON.parse(await readFile(join(reportDir, 'incident-orders-sync-20261201T173005Z-2.json'), 'utf8')) as IncidentReport;
    expect([first.reason, second.reason]).toEqual(['first', 'second']);
    expect(first.steps.find((s) => s.step === 'read-audit')).toMatchObject({ ok: true, detail: expect.stringContaining('no audit source given') });
  });
});

describe('connector-secrets incident lift', () => {
  it('lifts, audited, and writes the report of the lift', async () => {
    const incidentsLog = join(dir, 'incidents.jsonl');
    const r = await incident(['lift', '--identity', 'orders-sync', '--reason', 'INC-7 closed', '--env', 'dev', '--audit-file', incidentsLog, '--audit-key-file', keyPath, '--report', join(dir, 'r')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ ok lift: identity orders-sync lifted in this process/);
    const { json, md } = await reportOf(join(dir, 'r'));
    expect(json).toMatchObject({ kind: 'lift', identity: 'orders-sync', window: null, fleet: { published: false } });
    expect(md).toContain('# Incident: lift of identity orders-sync');
    const line = JSON.parse((await readFile(incidentsLog, 'utf8')).split('\n')[0]!) as { event: { action: string; reason: string } };
    expect(line.event).toMatchObject({ action: 'lift', reason: 'identity orders-sync was not quarantined: INC-7 closed' });
  });
});
