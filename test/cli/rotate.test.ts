// `connector-secrets rotate`: in-process for the cases, and once as the real command (node + tsx, src/cli/main.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { runLocalCommand } from '../../src/cli/local.js';
import { runRotateCommand } from '../../src/cli/rotate.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REF = 'local://orders-api';

let dir: string;
let storePath: string;
let first: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-rotate-'));
  storePath = join(dir, 'secrets', 'dev.enc.json');
  expect(await runLocalCommand(['init', '--env', 'dev', '--path', storePath], io().io)).toBe(0);
  first = randomBytes(18).toString('base64url');
  expect(await runLocalCommand(['set', 'orders-api', '--env', 'dev', '--path', storePath], io(first).io)).toBe(0);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io(stdin = '') {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]),
      stdout: (s: string) => void (out.stdout += s),
      stderr: (s: string) => void (out.stderr += s),
      env: {},
    },
  };
}

/** The current value and version of the entry, read through the CLI-free library. */
async function current(): Promise<{ value: string; version: string }> {
  const { fromLocalStore } = await import('../../src/providers/fromLocalStore.js');
  const store = fromLocalStore({ path: storePath, keyFile: join(dir, 'secrets', 'dev.key'), environment: 'dev' });
  const r = await store.resolve(
    (await import('../../src/ref/parseRef.js')).parseRef(REF),
    { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now },
  );
  return { value: r.value as string, version: r.version! };
}

const rotate = (args: string[], stdin = '') => {
  const run = io(stdin);
  return runRotateCommand([REF, '--env', 'dev', '--store', storePath, ...args], run.io).then((code) => ({ code, ...run.out }));
};

describe('connector-secrets rotate', () => {
  it('as the real command: --generate N --json writes a new version, audited with versions and never the value', async () => {
    const auditFile = join(dir, 'audit.jsonl');
    const keyFile = join(dir, 'audit.key');
    const hmacKey = randomBytes(32).toString('base64');
    await writeFile(keyFile, hmacKey);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'rotate', REF, '--env', 'dev', '--store', storePath, '--generate', '24', '--json', '--identity', 'ops-oncall', '--audit-file', auditFile, '--audit-key-file', keyFile],
      { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => void (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => void (stderr += c));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ ok: true, ref: REF, provider: 'local', previousVersion: '1', version: '2', verified: false });
    const now = await current();
    expect(now.version).toBe('2');
    expect(now.value).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(await verifyAuditLog(auditFile, { hmacKey })).toMatchObject({ ok: true });
    const log = await readFile(auditFile, 'utf8');
    const events = log.split('\n').filter((l) => l.includes('"event"')).map((l) => JSON.parse(l).event);
    expect(events).toContainEqual(expect.objectContaining({ action: 'rotate', identity: 'ops-oncall', ref: REF, outcome: 'success', version: '2', reason: 'rotated from version 1' }));
    expect(log).not.toContain(now.value);
    expect(log).not.toContain(first);
    expect(stdout).not.toContain(now.value);
  });

  it('reads the new value from stdin and prints only versions', async () => {
    const next = randomBytes(18).toString('base64url');
    const r = await rotate([], `${next}\n`);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`rotated ${REF}: version 1 -> 2\n`);
    expect(await current()).toEqual({ value: next, version: '2' });
  });

  it('--verify: a refusing command rolls back (exit 1, rolledBack in --json) and its output is redacted', async () => {
    const next = randomBytes(18).toString('base64url');
    const r = await rotate(['--json', '--verify', '--', process.execPath, '-e', 'console.log("trying " + process.env.SECRET_VALUE); process.exit(3)'], next);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, ref: REF, code: 'ROTATION_FAILED', rolledBack: true });
    expect(r.stderr).toContain('trying [REDACTED]');
    expect(r.stderr).not.toContain(next);
    expect(await current()).toEqual({ value: first, version: '3' });
  });

  it('--verify: an accepting command sees the new value under --verify-var', async () => {
    const r = await rotate(['--generate', '16', '--json', '--verify-var', 'NEW_TOKEN', '--verify', '--', process.execPath, '-e', 'process.exit(/^[A-Za-z0-9]{16}$/.test(process.env.NEW_TOKEN ?? "") ? 0 : 1)']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, version: '2', verified: true });
  });

  it('a policy that does not allow the ref denies it: exit 1, nothing written', async () => {
    const policy = join(dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ version: 1, rules: [{ name: 'other', identity: 'ops-oncall', allow: ['local://billing/*'] }] }));
    const r = await rotate(['--generate', '16', '--identity', 'ops-oncall', '--policy', policy]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error \[POLICY_DENIED\]/);
    expect(await current()).toEqual({ value: first, version: '1' });
  });

  it('usage and configuration errors exit 2 without echoing input', async () => {
    const pasted = randomBytes(12).toString('hex');
    expect((await runRotateCommand([pasted, '--env', 'dev'], io().io))).toBe(2);
    const bad = await rotate(['--generate', pasted]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain(pasted);
    expect((await rotate([])).code).toBe(2); // no value on stdin
    expect((await rotate(['--verify'])).code).toBe(2); // --verify without a command
    expect(await runRotateCommand([REF], io().io)).toBe(2); // no --env
    expect(await current()).toEqual({ value: first, version: '1' });
  });
});
