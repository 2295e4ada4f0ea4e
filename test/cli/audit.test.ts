import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { event, hmacKey } from '../audit/helpers.js';

let dir: string;
let path: string;
let keyFile: string;
let key: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-audit-'));
  path = join(dir, 'audit.jsonl');
  keyFile = join(dir, 'audit.key');
  key = hmacKey();
  await writeFile(keyFile, key + '\n', { mode: 0o600 });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runAuditCommand(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env,
    now: () => Date.UTC(2026, 0, 2),
  });
  return { code, stdout, stderr };
}

async function write(events: AuditEvent[]): Promise<void> {
  const sink = fileAuditSink(path, { hmacKey: key });
  for (const e of events) await sink.write(e);
  await sink.close();
}

const at = (h: number) => new Date(Date.UTC(2026, 0, 1, h)).toISOString();

describe('connector-secrets audit verify', () => {
  it('exit 0 for an intact log (key from --key-file, the env file variable, or the env key)', async () => {
    await write([event(), event()]);
    expect(await run(['verify', path, '--key-file', keyFile])).toMatchObject({ code: 0, stdout: expect.stringContaining('2 events verified') });
    expect((await run(['verify', path], { CONNECTOR_SECRETS_AUDIT_KEY_FILE: keyFile })).code).toBe(0);
    expect((await run(['verify', path], { CONNECTOR_SECRETS_AUDIT_KEY: key })).code).toBe(0);
  });

  it('exit 1, the number of the first bad line and why, never its content', async () => {
    await write([event(), event(), event()]);
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"latencyMs":3', '"latencyMs":4');
    await writeFile(path, lines.join('\n'));
    const r = await run(['verify', path, '--key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID');
    expect(r.stdout).toContain('line 2: MAC mismatch');
    expect(r.stdout).not.toContain('latencyMs');
    expect(r.stdout + r.stderr).not.toContain(lines[1]!.slice(0, 20));
  });

  it('prints nothing of a bad line written by an attacker (no terminal escapes either)', async () => {
    await writeFile(path, 'junk\u001b[31mred\n');
    const r = await run(['verify', path, '--key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('line 1: not a JSON record');
    expect(r.stdout + r.stderr).not.toContain('junk');
    expect(r.stdout + r.stderr).not.toContain('\u001b');
  });

  it('--allow-open accepts a log without checkpoint', async () => {
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.write(event());
    expect((await run(['verify', path, '--key-file', keyFile])).code).toBe(1);
    expect((await run(['verify', path, '--key-file', keyFile, '--allow-open'])).code).toBe(0);
    await sink.close();
  });

  it('usage and configuration errors exit 2 with a hint', async () => {
    expect(await run(['verify', path])).toMatchObject({ code: 2, stderr: expect.stringContaining('no HMAC key') });
    expect(await run(['verify'])).toMatchObject({ code: 2, stderr: expect.stringContaining('exactly one FILE') });
    expect(await run(['nope'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--help') });
    expect(await run([])).toMatchObject({ code: 2 });
    expect(await run(['verify', path, '--key-file', join(dir, 'missing.key')])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot be read') });
    expect(await run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('verify FILE') });
  });
});

describe('connector-secrets audit summary', () => {
  const events = () => [
    event({ ts: at(1), identity: 'orders-sync', ref: 'secret://orders-db/password', action: 'resolve' }),
    event({ ts: at(2), identity: 'orders-sync', ref: 'secret://orders-db/password', action: 'cache-hit' }),
    event({ ts: at(3), identity: 'orders-sync', ref: 'secret://orders-db/admin', outcome: 'denied', code: 'POLICY_DENIED' }),
    event({ ts: at(4), identity: 'billing', ref: 'secret://billing/token', outcome: 'failure', code: 'PROVIDER_UNAVAILABLE' }),
    event({ ts: at(5), identity: 'orders-sync', ref: 'secret://orders-db/password', action: 'rotate' }),
    event({ ts: at(6), identity: 'orders-sync', ref: null, outcome: 'failure', code: 'INVALID_REF' }),
  ];

  it('accesses, denials, failures per identity and ref, and rotations (verified with a key)', async () => {
    await write(events());
    const r = await run(['summary', path, '--key-file', keyFile, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ verified: true, events: 6, totals: { accesses: 5, denials: 1, failures: 2, rotations: 1 } });
    const row = (identity: string, ref: string) => out.rows.find((x: { identity: string; ref: string }) => x.identity === identity && x.ref === ref);
    expect(row('orders-sync', 'secret://orders-db/password')).toMatchObject({ accesses: 2, served: 2, cacheHits: 1, rotations: 1 });
    expect(row('orders-sync', 'secret://orders-db/admin')).toMatchObject({ denials: 1, denialCodes: { POLICY_DENIED: 1 } });
    expect(row('billing', 'secret://billing/token')).toMatchObject({ failures: 1, failureCodes: { PROVIDER_UNAVAILABLE: 1 } });
    expect(row('orders-sync', '(invalid ref)')).toMatchObject({ failures: 1 });
  });

  it('a time range: ISO bounds or durations back from now (since inclusive, until exclusive)', async () => {
    await write(events());
    const iso = JSON.parse((await run(['summary', path, '--since', at(2), '--until', at(4), '--json'])).stdout);
    expect(iso.events).toBe(2);
    expect(iso.range).toEqual({ since: at(2), until: at(4) });
    // now is 2026-01-02T00:00Z: 21h ago is 03:00.
    expect(JSON.parse((await run(['summary', path, '--since', '21h', '--json'])).stdout).events).toBe(4);
    expect((await run(['summary', path, '--since', 'yesterday'])).code).toBe(2);
  });

  it('prints a table; warns when not verified; refuses a tampered log when given a key', async () => {
    await write(events());
    const plain = await run(['summary', path]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('not verified');
    expect(plain.stdout).toMatch(/orders-sync\s+secret:\/\/orders-db\/password\s+2\s+2\s+1\s+0\s+0\s+1/);
    expect(plain.stdout).toContain('POLICY_DENIED x1');
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines.splice(2, 1);
    await writeFile(path, lines.join('\n'));
    expect(await run(['summary', path, '--key-file', keyFile])).toMatchObject({ code: 1, stderr: expect.stringContaining('does not verify') });
  });
});
