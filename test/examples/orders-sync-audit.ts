// Shared checks of the demo's guards and audit trail, for the local-store and the Vault runs
// (orders-sync.test.ts, orders-sync-vault.test.ts). Not a test file itself.
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { CROSS_ENVIRONMENT_REF, DEMO_IDENTITY } from '../../examples/orders-sync/guards-and-audit.js';
import type { DemoResult } from '../../examples/orders-sync/main.js';
import { ACCESS_TOKEN_REF, ordersSecrets } from '../../examples/orders-sync/connector.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { verifyAuditLog, type AuditEvent } from '../../src/index.js';
import { expectNoSecrets } from '../../src/testing/index.js';

/** Every printable form a leaked value could take. */
export function forms(value: string | Buffer): string[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const out = [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')];
  if (typeof value === 'string') out.push(value);
  return out.filter((f) => f.length >= 16);
}

/** The audit HMAC key as the demo wrote it: the key file's text without its newline. */
export async function auditKeyOf(run: DemoResult): Promise<string> {
  return (await readFile(run.audit.keyFile, 'utf8')).replace(/\r?\n$/, '');
}

/** The key forms that must never be printed or logged: the key text, its bytes, and their encodings. */
export async function auditKeyLeaks(run: DemoResult): Promise<string[]> {
  const key = await auditKeyOf(run);
  return [...forms(key), ...forms(Buffer.from(key, 'hex'))];
}

/** `connector-secrets audit verify FILE --key-file K`, as the demo prints it. */
async function cliVerify(file: string, keyFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAuditCommand(['verify', file, '--key-file', keyFile], {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: {},
  });
  return { code, stdout, stderr };
}

/** The event lines of an audit log (checkpoints left out), with their 1-based line numbers. */
function eventsOf(text: string): { line: number; event: AuditEvent }[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l, i) => ({ line: i + 1, record: JSON.parse(l) as { event?: AuditEvent } }))
    .filter((r): r is { line: number; record: { event: AuditEvent } } => r.record.event !== undefined)
    .map((r) => ({ line: r.line, event: r.record.event }));
}

export interface ExpectAuditTrailOptions {
  /** The provider that served the client secret: `local` or `vault`. */
  readonly provider: string;
  /** Every secret of the run, in the plain forms the test knows; none may be in the log in any form. */
  readonly leaks: readonly string[];
  /** Work directory for the tampered copy. */
  readonly dir: string;
}

/**
 * The run printed one denied cross-environment read and a verified audit log; the log has the
 * denial and the successful reads, holds no secret, verifies with the CLI command the demo
 * printed, and a copy with one line edited does not verify.
 */
export async function expectDeniedReadAndVerifiedAudit(run: DemoResult, lines: readonly string[], options: ExpectAuditTrailOptions): Promise<void> {
  // The denial, as printed: code, message, and that nothing was fetched. The run went on.
  expect(run.deniedRead).toEqual({
    ref: CROSS_ENVIRONMENT_REF,
    code: 'ENVIRONMENT_MISMATCH',
    name: 'EnvironmentMismatchError',
    message: expect.stringContaining('asks for environment "prod" but this process runs in "dev"'),
    fetched: false,
  });
  const asked = lines.indexOf(`cross-environment read: the "dev" process asks for ${CROSS_ENVIRONMENT_REF}`);
  expect(asked).toBeGreaterThan(lines.findIndex((l) => l.startsWith('synced ')));
  expect(lines[asked + 1]).toBe(`  denied: EnvironmentMismatchError [ENVIRONMENT_MISMATCH]: ${run.deniedRead.message}`);
  expect(lines[asked + 2]).toMatch(/^ {2}no value was fetched: no provider was called \(provider fetches stayed at 1\)/);

  // The verification, as printed, is the last thing the run does.
  const { path, keyFile, verification } = run.audit;
  expect(verification).toEqual({ ok: true, count: expect.any(Number) });
  const verified = lines.findIndex((l) => l.startsWith(`audit log: ${verification.count} records, verified OK`));
  expect(verified).toBeGreaterThan(asked);
  expect(lines.slice(verified + 1)).toEqual([
    expect.stringContaining('check it from the CLI'),
    `  npx connector-secrets audit verify ${path} --key-file ${keyFile}`,
    `  in this repository: npx tsx src/cli/main.ts audit verify ${path} --key-file ${keyFile}`,
  ]);

  // The log verifies on its own, and with the command the demo printed.
  const hmacKey = await auditKeyOf(run);
  expect(await verifyAuditLog(path, { hmacKey })).toEqual({ ok: true, count: verification.count });
  const cli = await cliVerify(path, keyFile);
  expect(cli).toEqual({ code: 0, stdout: `ok: ${path}: ${verification.count} events verified\n`, stderr: '' });
  if (process.platform !== 'win32') {
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  }

  // What this run recorded: the successful reads of the client secret and the access token by
  // the connector identity under its policy rule, and the denial, which names no provider.
  const text = await readFile(path, 'utf8');
  const events = eventsOf(text);
  expect(events).toHaveLength(verification.count);
  const thisRun = events.slice(run.audit.recordsBefore).map((e) => e.event);
  expect(thisRun.length).toBeGreaterThanOrEqual(4);
  for (const e of thisRun) expect(e).toMatchObject({ identity: DEMO_IDENTITY, environment: 'dev' });
  expect(thisRun).toContainEqual(expect.objectContaining({
    action: 'resolve', ref: ordersSecrets.specs.clientSecret.ref, provider: options.provider, outcome: 'success', code: null, rule: 'orders-sync-least-privilege',
  }));
  expect(thisRun).toContainEqual(expect.objectContaining({ action: 'resolve', ref: ACCESS_TOKEN_REF, provider: 'orders-api', outcome: 'success' }));
  expect(thisRun.filter((e) => e.action === 'rotate' && e.ref === ACCESS_TOKEN_REF).length).toBe(run.rotations.length);
  const denials = thisRun.filter((e) => e.outcome === 'denied');
  expect(denials).toEqual([expect.objectContaining({
    action: 'resolve', ref: CROSS_ENVIRONMENT_REF, provider: null, outcome: 'denied', code: 'ENVIRONMENT_MISMATCH', version: null,
    reason: run.deniedRead.message,
  })]);

  // No secret in any form: neither a value, nor its encodings, nor the HMAC key.
  const leaks = [...options.leaks, ...(await auditKeyLeaks(run))];
  for (const leaked of leaks.flatMap((l) => forms(l))) expect(text).not.toContain(leaked);
  expectNoSecrets(text, leaks);

  // A copy with one line edited (the denial turned into a success) fails at that line, and the CLI exits 1 naming it.
  const denied = events.find((e) => e.event.ref === CROSS_ENVIRONMENT_REF && e.event.outcome === 'denied' && events.indexOf(e) >= run.audit.recordsBefore)!;
  const tampered = `${options.dir}/tampered.jsonl`;
  await copyFile(path, tampered);
  const tamperedLines = text.split('\n');
  const original = tamperedLines[denied.line - 1]!;
  tamperedLines[denied.line - 1] = original.replace('"outcome":"denied"', '"outcome":"success"');
  expect(tamperedLines[denied.line - 1]).not.toBe(original);
  await writeFile(tampered, tamperedLines.join('\n'));
  const result = await verifyAuditLog(tampered, { hmacKey });
  expect(result).toMatchObject({ ok: false, firstInvalidLine: denied.line, reason: expect.stringContaining('MAC mismatch') });
  const tamperedCli = await cliVerify(tampered, keyFile);
  expect(tamperedCli.code).toBe(1);
  expect(tamperedCli.stdout).toContain(`INVALID: ${tampered}: line ${denied.line}: MAC mismatch`);
  // The original is untouched and still verifies.
  expect((await verifyAuditLog(path, { hmacKey })).ok).toBe(true);
}
