// CLI conventions shared by every command: --version, --json, exit codes 0/1/2, key file discovery, flag-speaking errors.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { runLocalCommand } from '../../src/cli/local.js';

const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-conv-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env['PATH'] ?? '' } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

async function local(argv: string[], stdin = '', env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runLocalCommand(argv, { stdin: Readable.from([stdin]), stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env });
  return { code, stdout, stderr };
}

async function audit(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runAuditCommand(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env });
  return { code, stdout, stderr };
}

describe('connector-secrets: top level', () => {
  it('--version prints the package version; --help documents the exit codes; an unknown command exits 2', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/exit codes:\n {2}0 {2}ok\n {2}1 {2}check failed[^\n]*\n {2}2 {2}usage or configuration error/);
    expect(help.stdout).toContain('run --env <tag>');
    expect(await cli(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('error [USAGE]') });
  });
});

describe('connector-secrets local: the key file init wrote is found without flags', () => {
  it('init, then set and list with only --env and --path: no --key-file, no variables', async () => {
    const store = join(dir, '.secrets', 'dev.enc.json');
    const init = await local(['init', '--env', 'dev', '--path', store, '--json']);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toEqual({ store, environment: 'dev', keyFile: join(dir, '.secrets', 'dev.key'), generated: true });
    const value = randomBytes(18).toString('base64url');
    const set = await local(['set', 'orders-db/password', '--env', 'dev', '--path', store, '--json'], value);
    expect(set.stderr).toBe('');
    expect(JSON.parse(set.stdout)).toEqual({ name: 'orders-db/password', version: 1, store });
    const list = await local(['list', '--env', 'dev', '--store', store, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'orders-db/password', currentVersion: 1 }]);
    expect(set.stdout + list.stdout).not.toContain(value);
  });

  it('without a key anywhere, the error names the flag and the default file, not library options; exit 2', async () => {
    const store = join(dir, '.secrets', 'dev.enc.json');
    await local(['init', '--env', 'dev', '--path', store, '--key-file', join(dir, 'elsewhere.key')]);
    const r = await local(['list', '--env', 'dev', '--path', store]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --key-file K');
    expect(r.stderr).toContain(join(dir, '.secrets', 'dev.key'));
    expect(r.stderr).not.toMatch(/fromLocalStore|\{ ?key/);
  });

  it('without --env or --path, the error names those flags, not library options; exit 2', async () => {
    const r = await local(['list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error \[USAGE\]: which store\? pass --env <tag>/);
    expect(r.stderr).not.toContain('fromLocalStore');
  });

  it('rotate-key --json', async () => {
    const store = join(dir, '.secrets', 'dev.enc.json');
    await local(['init', '--env', 'dev', '--path', store]);
    const next = join(dir, 'next.key');
    const r = await local(['rotate-key', '--env', 'dev', '--path', store, '--new-key-file', next, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ store, keyFile: next, generated: true });
  });
});

describe('connector-secrets audit verify --json', () => {
  it('prints {file, ok, count} with 0, and the first bad line with 1; a missing key is 2', async () => {
    const hmacKey = randomBytes(32).toString('base64');
    const keyFile = join(dir, 'audit.key');
    await writeFile(keyFile, hmacKey);
    const file = join(dir, 'audit.jsonl');
    const sink = fileAuditSink(file, { hmacKey });
    await sink.write({ ts: new Date(0).toISOString(), seq: 1, identity: 'orders-sync', environment: 'dev', action: 'resolve', ref: 'env://X', provider: 'env', outcome: 'success', code: null, latencyMs: 1, version: null });
    await sink.close();
    const ok = await audit(['verify', file, '--key-file', keyFile, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ file, ok: true, count: 1 });
    await writeFile(file, (await readFile(file, 'utf8')).replace('orders-sync', 'orders-synx'));
    const bad = await audit(['verify', file, '--key-file', keyFile, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ file, ok: false, count: 0, firstInvalidLine: 1, reason: expect.any(String) });
    expect((await audit(['verify', file, '--json'])).code).toBe(2);
    // An option verify would ignore is refused instead.
    expect(await audit(['verify', file, '--key-file', keyFile, '--since', '24h'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--since and --until belong to audit summary') });
  });
});
