/**
 * Breach drills: each scenario plays an attack or a misconfiguration and asserts
 *   1. the denial (the error and its code),
 *   2. its audit record,
 *   3. that the value is in no cache (the provider is asked again, or was never asked),
 *   4. in no redactor list (`secrets.redactor` does not know it: it was dropped before registration),
 *   5. in no log line (nothing written to stdout, stderr or the console carries it),
 *   6. in no error (message, stack, causes) and in no audit record.
 * Values are generated per run; nothing credential-like is written here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent, AuditSink } from '../../src/audit/event.js';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { createSecrets, type SecretsClient, type SecretsOptions } from '../../src/client.js';
import { AccessDeniedError } from '../../src/errors.js';
import type { ResolvedSecret } from '../../src/provider.js';
import { fromEnv } from '../../src/providers/fromEnv.js';
import { fromFile } from '../../src/providers/fromFile.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { errorText, fakeClock, scripted } from '../helpers.js';

/** A generated value that no pattern detector would mask by itself. */
const fresh = () => `drillvalue${randomBytes(10).toString('hex')}`;

interface Harness {
  secrets: SecretsClient;
  events: AuditEvent[];
}

function client(options: Omit<SecretsOptions, 'audit' | 'redaction'>): Harness {
  const events: AuditEvent[] = [];
  const secrets = createSecrets({
    audit: callbackAuditSink((e) => void events.push(e)),
    // Only registered values are masked, so "the redactor does not know it" is a real check.
    redaction: { detectors: false },
    ...options,
  });
  return { secrets, events };
}

/** Everything written to stdout, stderr and the console while `fn` runs. */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  let output = '';
  const take = (...args: unknown[]) => {
    output += args.map((a) => (typeof a === 'string' ? a : a instanceof Uint8Array ? Buffer.from(a).toString('utf8') : String(a))).join(' ') + '\n';
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (take(chunk), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (take(chunk), true)),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation(take)),
  ];
  try {
    return { result: await fn(), output };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

/**
 * Runs one denied access and checks every place the value must not be. Returns the error and
 * the last audit record.
 */
async function denied(
  h: Harness,
  access: () => Promise<unknown>,
  value: string,
  expected: { code: string; outcome?: 'denied' | 'failure' },
): Promise<{ err: Error & Record<string, unknown>; record: AuditEvent }> {
  const before = h.events.length;
  const { result, output } = await captured(async () => {
    try {
      const got = await access();
      return { got };
    } catch (err) {
      return { err: err as Error & Record<string, unknown> };
    }
  });
  expect('err' in result, 'the access must be denied').toBe(true);
  const err = (result as { err: Error & Record<string, unknown> }).err;
  expect(err.code).toBe(expected.code);
  expect(errorText(err)).not.toContain(value);
  expect(output).not.toContain(value);
  // The access's own record (an anomaly alert it raised may follow it).
  const record = h.events.filter((e) => e.action !== 'anomaly').at(-1)!;
  expect(h.events.length).toBeGreaterThan(before);
  expect(record).toMatchObject({ code: expected.code, outcome: expected.outcome ?? 'denied' });
  expect(JSON.stringify(h.events)).not.toContain(value);
  expect(h.secrets.redactor.redact(`before ${value} after`)).toBe(`before ${value} after`);
  expect(JSON.stringify(h.secrets.metrics())).not.toContain(value);
  return { err, record };
}

/** A provider answering every ref of its schemes with `value` and the given facts, counting calls. */
function answering(name: string, value: string, facts: Omit<ResolvedSecret, 'value'> = {}, extra: Parameters<typeof scripted>[2] = {}) {
  return scripted(name, () => ({ value, ...facts }), { schemes: ['secret', 'test'], ...extra });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-drills-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('breach drills', () => {
  it('control: a legitimate read is registered with the redactor and audited (so the negative checks below mean something)', async () => {
    const value = fresh();
    const provider = answering('store', value, { metadata: { environment: 'dev' } });
    const h = client({ environment: 'dev', providers: [provider] });
    const s = await h.secrets.get('secret://orders-db/password');
    expect(s.reveal()).toBe(value);
    expect(h.secrets.redactor.redact(`x ${value} y`)).not.toContain(value);
    expect(h.events.at(-1)).toMatchObject({ action: 'resolve', outcome: 'success', ref: 'secret://orders-db/password' });
    expect(JSON.stringify(h.events)).not.toContain(value);
  });

  it('1. a dev process reads a prod-tagged secret: dropped after the fetch, never cached', async () => {
    const value = fresh();
    const provider = answering('store', value, { metadata: { environment: 'prod' } });
    const h = client({ environment: 'dev', providers: [provider] });
    const { err, record } = await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(err).toMatchObject({ environment: 'dev', targetEnvironment: 'prod' });
    expect(record).toMatchObject({ ref: 'secret://orders-db/password', provider: 'store', environment: 'dev' });
    await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(provider.calls).toHaveLength(2); // asked again: nothing was cached
  });

  it('2. a ref with ?env=prod from dev: denied before any provider call', async () => {
    const value = fresh();
    const provider = answering('store', value, { metadata: { environment: 'prod' } });
    const h = client({ environment: 'dev', providers: [provider] });
    const { record } = await denied(h, () => h.secrets.get('secret://orders-db/password?env=prod'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(record.ref).toBe('secret://orders-db/password?env=prod');
    expect(provider.calls).toEqual([]);
  });

  it('3. a prod-bound provider used from dev: skipped, never called; no candidate left is a denial', async () => {
    const value = fresh();
    const prod = answering('prod-vault', value, { metadata: { environment: 'prod' } }, { environment: 'prod' });
    const h = client({ environment: 'dev', providers: [prod] });
    const { err } = await denied(h, () => h.secrets.get('test://orders-db/password'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(err.message).toContain('prod-vault (prod)');
    expect(prod.calls).toEqual([]);
  });

  it('4. a logical ref whose dev lookup misses does not fall through to a prod-bound provider', async () => {
    const value = fresh();
    const dev = fromMock({ name: 'dev-store', environment: 'dev' });
    const prod = answering('prod-store', value, { metadata: { environment: 'prod' } }, { environment: 'prod' });
    const h = client({ environment: 'dev', providers: [dev, prod] });
    const { err } = await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'SECRET_NOT_FOUND', outcome: 'failure' });
    expect(err.message).toContain('skipped, not asked: prod-store (prod)');
    expect(dev.calls).toBe(1);
    expect(prod.calls).toEqual([]);
  });

  it('5. an untagged secret in prod (strict mode): dropped, never cached', async () => {
    const value = fresh();
    const unbound = answering('store', value);
    const h = client({ environment: 'prod', providers: [unbound] });
    const { err } = await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(err.message).toContain('no environment tag');
    await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(unbound.calls).toHaveLength(2);
  });

  it('6. an expired credential: by expiresAt and by metadata; dropped, never cached', async () => {
    const clock = fakeClock();
    const value = fresh();
    const stale = answering('store', value, { expiresAt: new Date(clock.now() - 1) });
    const h = client({ environment: 'dev', providers: [stale], now: clock.now });
    await denied(h, () => h.secrets.get('secret://token'), value, { code: 'SECRET_EXPIRED' });
    const meta = answering('meta', value, { metadata: { expiresAt: new Date(clock.now() - 60_000).toISOString() } });
    const h2 = client({ environment: 'dev', providers: [meta], now: clock.now });
    await denied(h2, () => h2.secrets.get('secret://token'), value, { code: 'SECRET_EXPIRED' });
    await denied(h2, () => h2.secrets.get('secret://token'), value, { code: 'SECRET_EXPIRED' });
    expect(meta.calls).toHaveLength(2);
  });

  describe('7-8. file:// path traversal', () => {
    it('plain: ../ is not a ref, and an absolute path outside the root is refused by the provider (the file is never read)', async () => {
      const root = join(dir, 'mounted');
      await mkdir(root, { recursive: true });
      const value = fresh();
      const outside = join(dir, 'outside-secret');
      await writeFile(outside, value);
      const h = client({ environment: 'dev', providers: [fromFile({ root })] });
      const rel = await denied(h, () => h.secrets.get('file://../outside-secret'), value, { code: 'INVALID_REF', outcome: 'failure' });
      expect(rel.record.ref).toBeNull();
      await denied(h, () => h.secrets.get(`file://${root}/../outside-secret`), value, { code: 'INVALID_REF', outcome: 'failure' });
      const abs = await denied(h, () => h.secrets.get(`file://${outside}`), value, { code: 'ACCESS_DENIED' });
      expect(abs.record).toMatchObject({ provider: 'file', ref: `file://${outside}` });
    });

    it('percent-encoded: %2E%2E and %2F are refused before any provider call', async () => {
      const value = fresh();
      const file = answering('file-like', value, {}, { schemes: ['file'] });
      const h = client({ environment: 'dev', providers: [file] });
      for (const ref of ['file://%2E%2E/outside-secret', 'file://%2e%2e%2Foutside-secret', 'file:///run/secrets/%2E%2E/%2E%2E/etc/x', 'file://a%2F..%2Fb']) {
        await denied(h, () => h.secrets.get(ref), value, { code: 'INVALID_REF', outcome: 'failure' });
      }
      expect(file.calls).toEqual([]);
    });
  });

  it('9. local:// path traversal, plain and percent-encoded: refused before the store is asked', async () => {
    const value = fresh();
    const local = answering('local', value, { metadata: { environment: 'dev' } }, { schemes: ['local'] });
    const h = client({ environment: 'dev', providers: [local] });
    for (const ref of ['local://../prod/orders-db', 'local://dev/../prod/orders-db', 'local://%2E%2E/prod/orders-db', 'local://dev%2F..%2Fprod/orders-db', 'local://dev/%2e%2e/prod']) {
      await denied(h, () => h.secrets.get(ref), value, { code: 'INVALID_REF', outcome: 'failure' });
    }
    expect(local.calls).toEqual([]);
    // Five refused refs in a row also raise an anomaly alert.
    expect(h.events.filter((e) => e.action === 'anomaly')).toMatchObject([{ code: 'repeated-denials', outcome: 'alert' }]);
  });

  it('10. CONNECTOR_SECRETS_ENV changed after creation changes nothing', async () => {
    const value = fresh();
    const saved = process.env['CONNECTOR_SECRETS_ENV'];
    process.env['CONNECTOR_SECRETS_ENV'] = 'dev';
    try {
      const provider = answering('store', value, { metadata: { environment: 'prod' } });
      const h = client({ providers: [provider] });
      process.env['CONNECTOR_SECRETS_ENV'] = 'prod';
      expect(h.secrets.environment).toBe('dev');
      await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'ENVIRONMENT_MISMATCH' });
      await denied(h, () => h.secrets.get('secret://orders-db/password?env=prod'), value, { code: 'ENVIRONMENT_MISMATCH' });
      expect(h.events.every((e) => e.environment === 'dev')).toBe(true);
    } finally {
      if (saved === undefined) delete process.env['CONNECTOR_SECRETS_ENV'];
      else process.env['CONNECTOR_SECRETS_ENV'] = saved;
    }
  });

  it('11. policy glob bypass by case: a case-folding provider is not reached past a deny rule', async () => {
    const value = fresh();
    // fromEnv upper-cases logical refs: secret://orders-db/admin and secret://ORDERS-DB/Admin read the same variable.
    const env = { ORDERS_DB_ADMIN: value, ORDERS_DB_PASSWORD: fresh() };
    const spy = fromEnv({ env });
    const resolve = vi.spyOn(spy, 'resolve');
    const h = client({
      environment: 'dev',
      identity: 'orders-sync',
      providers: [spy],
      policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*', 'secret://ORDERS-DB/*'], deny: ['secret://orders-db/admin'] }] },
    });
    await expect(h.secrets.get('secret://orders-db/password')).resolves.toBeDefined();
    for (const ref of ['secret://orders-db/admin', 'secret://ORDERS-DB/ADMIN', 'secret://Orders-Db/Admin']) {
      const { err, record } = await denied(h, () => h.secrets.get(ref), value, { code: 'POLICY_DENIED' });
      expect(err.rule).toBe('orders');
      expect(record.rule).toBe('orders');
    }
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it('12. policy glob bypass by percent-encoding: the canonical ref is matched', async () => {
    const value = fresh();
    const provider = answering('store', value);
    const h = client({
      environment: 'dev',
      providers: [provider],
      policy: { version: 1, rules: [{ name: 'all-but-admin', identity: '*', allow: ['secret://**'], deny: ['secret://orders-db/admin'] }] },
    });
    for (const ref of ['secret://orders-db/%61dmin', 'secret://orders%2Ddb/admin', 'secret://%6Frders-db/%61%64%6D%69%6E', 'secret://orders-db/admin#field', 'secret://orders-db/admin?version=2']) {
      await denied(h, () => h.secrets.get(ref), value, { code: 'POLICY_DENIED' });
    }
    expect(provider.calls).toEqual([]);
  });

  it('13. time-window edges: 04:59:59.999 is in, 05:00 is out (a cached value is not served after the window closes)', async () => {
    // Berlin is UTC+1 in January: 05:00 Berlin = 04:00 UTC.
    const clock = fakeClock(Date.UTC(2026, 0, 15, 3, 59, 59, 999));
    const value = fresh();
    const provider = answering('store', value);
    const h = client({
      environment: 'dev',
      identity: 'nightly',
      providers: [provider],
      now: clock.now,
      policy: { version: 1, rules: [{ name: 'batch-window', identity: 'nightly', allow: ['secret://orders-db/*'], windows: ['01:00-05:00'], timeZone: 'Europe/Berlin' }] },
    });
    const inside = await h.secrets.get('secret://orders-db/password');
    expect(inside.reveal()).toBe(value);
    clock.advance(1);
    // The value was served inside the window, so the redactor knows it: check the denial only.
    const { result, output } = await captured(() => h.secrets.get('secret://orders-db/password').then(() => undefined, (e: Error & Record<string, unknown>) => e));
    expect(result).toMatchObject({ code: 'POLICY_DENIED', rule: 'batch-window', message: expect.stringContaining('01:00-05:00 Europe/Berlin') });
    expect(errorText(result)).not.toContain(value);
    expect(output).not.toContain(value);
    expect(h.events.filter((e) => e.action !== 'anomaly').at(-1)).toMatchObject({ action: 'resolve', outcome: 'denied', code: 'POLICY_DENIED', rule: 'batch-window' });
    expect(h.events.filter((e) => e.action === 'anomaly')).toMatchObject([{ code: 'outside-window' }]);
    expect(provider.calls).toHaveLength(1);
    // 00:59:59 Berlin (23:59:59 UTC) is outside too; 01:00 Berlin is inside again.
    const before = fakeClock(Date.UTC(2026, 0, 14, 23, 59, 59));
    const h2 = client({
      environment: 'dev',
      identity: 'nightly',
      providers: [answering('store', value)],
      now: before.now,
      policy: { version: 1, rules: [{ name: 'batch-window', identity: 'nightly', allow: ['secret://orders-db/*'], windows: ['01:00-05:00'], timeZone: 'Europe/Berlin' }] },
    });
    await denied(h2, () => h2.secrets.get('secret://orders-db/password'), value, { code: 'POLICY_DENIED' });
    before.advance(1000);
    await expect(h2.secrets.get('secret://orders-db/password')).resolves.toBeDefined();
  });

  it('14. an approval hook that throws denies; a value fetched for it is dropped', async () => {
    const value = fresh();
    const provider = answering('store', value, { metadata: { sensitivity: 'critical' } });
    const approve = vi.fn(() => {
      throw new Error('approval service down');
    });
    const h = client({
      environment: 'dev',
      providers: [provider],
      approve,
      policy: { version: 1, rules: [{ name: 'crit', identity: '*', allow: ['secret://**'], requireApproval: 'critical' }] },
    });
    const { err } = await denied(h, () => h.secrets.get('secret://orders-db/admin'), value, { code: 'POLICY_DENIED' });
    expect(err.message).toContain('was not given');
    expect(err.message).not.toContain('approval service down');
    await denied(h, () => h.secrets.get('secret://orders-db/admin'), value, { code: 'POLICY_DENIED' });
    expect(provider.calls).toHaveLength(2);
    expect(approve).toHaveBeenCalledTimes(2);
  });

  it('15. an audit sink that fails, fail-closed: the access is denied and its value is not kept', async () => {
    const value = fresh();
    const provider = answering('store', value, { metadata: { environment: 'prod' } });
    const failing: AuditSink = {
      write() {
        throw new Error('disk full');
      },
    };
    const errors: unknown[] = [];
    const secrets = createSecrets({ environment: 'prod', providers: [provider], audit: [failing, failing], redaction: { detectors: false } });
    secrets.on('audit-error', (e) => void errors.push(e));
    const { result, output } = await captured(() => secrets.get('secret://orders-db/password').then(() => undefined, (e: Error & { code: string }) => e));
    expect(result).toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining("'fail-closed'") });
    expect(errorText(result)).not.toContain(value);
    expect(output).not.toContain(value);
    // Every failed record is reported; nothing was served and nothing is kept for later.
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(secrets.metrics().auditFailures).toBeGreaterThanOrEqual(2);
    await secrets.get('secret://orders-db/password').catch(() => {});
    expect(provider.calls).toHaveLength(2);
    // The value did cross the process boundary, so the redactor knowing it is the safe direction.
  });

  describe('16-18. tampering with the audit log', () => {
    const key = randomBytes(32).toString('hex');
    async function realLog(name: string, anchor?: string): Promise<{ path: string; lines: string[]; value: string }> {
      const path = join(dir, `${name}.jsonl`);
      const value = fresh();
      const provider = answering('store', value, { metadata: { environment: 'prod' } });
      const audit = fileAuditSink(path, { hmacKey: key, ...(anchor === undefined ? {} : { anchor }) });
      const secrets = createSecrets({ environment: 'prod', identity: 'orders-sync', providers: [provider], audit });
      await secrets.get('secret://orders-db/password');
      await secrets.get('secret://orders-db/password');
      await secrets.get('secret://orders-db/password?env=dev').catch(() => {});
      await secrets.get('secret://billing/token');
      await secrets.close();
      const text = await readFile(path, 'utf8');
      expect(text).not.toContain(value);
      expect((await verifyAuditLog(path, { hmacKey: key })).ok).toBe(true);
      return { path, lines: text.split('\n').slice(0, -1), value };
    }
    async function cli(path: string, extra: string[] = []) {
      let stdout = '';
      const code = await runAuditCommand(['verify', path, ...extra], { stdout: (s) => void (stdout += s), stderr: (s) => void (stdout += s), env: { CONNECTOR_SECRETS_AUDIT_KEY: key } });
      return { code, stdout };
    }

    it('16. an edited line (a denial turned into a success) is found at its line', async () => {
      const { path, lines } = await realLog('edited');
      const i = lines.findIndex((l) => l.includes('"outcome":"denied"'));
      lines[i] = lines[i]!.replace('"outcome":"denied"', '"outcome":"success"');
      await writeFile(path, lines.join('\n') + '\n');
      expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: i + 1, reason: expect.stringContaining('MAC') });
      expect(await cli(path)).toMatchObject({ code: 1, stdout: expect.stringContaining(`line ${i + 1}`) });
    });

    it('16b. a denial hidden behind a duplicate key (a fake "outcome":"success" first, which readers that keep the first key see) is found; the CLI prints none of the line', async () => {
      const { path, lines } = await realLog('duplicate-key');
      const i = lines.findIndex((l) => l.includes('"outcome":"denied"'));
      lines[i] = lines[i]!.replace('"event":{', '"event":{"outcome":"success",');
      await writeFile(path, lines.join('\n') + '\n');
      expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: i + 1, reason: expect.stringContaining('duplicate key') });
      const r = await cli(path);
      expect(r).toMatchObject({ code: 1, stdout: expect.stringContaining(`line ${i + 1}: duplicate key`) });
      expect(r.stdout).not.toContain('secret://');
    });

    it('16c. the same denial with the whitespace, key order or line ending changed is found', async () => {
      const { path, lines } = await realLog('reformatted');
      const i = lines.findIndex((l) => l.includes('"outcome":"denied"'));
      for (const forged of [lines[i]!.replace('"outcome":', '"outcome": '), lines[i]!.replace('{"v":3,', '{ "v":3,'), `${lines[i]!}\r`]) {
        await writeFile(path, [...lines.slice(0, i), forged, ...lines.slice(i + 1)].join('\n') + '\n');
        expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: i + 1 });
        expect((await cli(path)).code).toBe(1);
      }
    });

    it('17. a deleted line (the denial removed) is found', async () => {
      const { path, lines } = await realLog('deleted');
      const i = lines.findIndex((l) => l.includes('"outcome":"denied"'));
      lines.splice(i, 1);
      await writeFile(path, lines.join('\n') + '\n');
      expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: i + 1 });
      expect((await cli(path)).code).toBe(1);
    });

    it('17b. whole later sessions cut off after a checkpoint, or the log swapped for another writer\'s, are found with the anchor', async () => {
      const anchor = join(dir, 'cut.anchor');
      const { path, lines } = await realLog('cut', anchor);
      const closed = lines.length;
      const second = await realLog('cut', anchor);
      expect(second.lines.length).toBeGreaterThan(closed);
      expect((await cli(path, ['--anchor', anchor])).code).toBe(0);
      await writeFile(path, lines.join('\n') + '\n');
      expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: true });
      expect(await verifyAuditLog(path, { hmacKey: key, anchor })).toMatchObject({ ok: false, firstInvalidLine: closed + 1, reason: expect.stringContaining('lines were cut') });
      expect(await cli(path, ['--anchor', anchor])).toMatchObject({ code: 1, stdout: expect.stringContaining(`line ${closed + 1}: `) });
      const other = await realLog('other-writer');
      expect(await cli(other.path, ['--anchor', anchor])).toMatchObject({ code: 1, stdout: expect.stringContaining('line 1: the log is not the one its anchor records') });
    });

    it('18. reordered lines are found', async () => {
      const { path, lines } = await realLog('reordered');
      [lines[0], lines[1]] = [lines[1]!, lines[0]!];
      await writeFile(path, lines.join('\n') + '\n');
      expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 1 });
      expect((await cli(path)).code).toBe(1);
    });
  });

  it('19. a forged policy file (pinned digest differs, or group-writable): every access is denied, no provider asked', async () => {
    const value = fresh();
    const provider = answering('store', value);
    const path = join(dir, 'policy.json');
    const genuine = JSON.stringify({ version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/password'] }] });
    const sha256 = createHash('sha256').update(genuine).digest('hex');
    await writeFile(path, JSON.stringify({ version: 1, rules: [{ name: 'orders', identity: '*', allow: ['*://**'] }] }));
    await chmod(path, 0o600);
    const h = client({ environment: 'dev', identity: 'orders-sync', providers: [provider], policy: { path, sha256 } });
    const { err, record } = await denied(h, () => h.secrets.get('secret://orders-db/admin'), value, { code: 'POLICY_DENIED' });
    expect(err.message).toContain('pinned sha256');
    expect(record.rule).toBe('(policy file)');
    if (process.platform !== 'win32') {
      const loose = join(dir, 'loose-policy.json');
      await writeFile(loose, genuine);
      await chmod(loose, 0o666);
      const h2 = client({ environment: 'dev', identity: 'orders-sync', providers: [provider], policy: loose });
      const { err: err2 } = await denied(h2, () => h2.secrets.get('secret://orders-db/password'), value, { code: 'POLICY_DENIED' });
      expect(err2.message).toContain('writable by group or others');
    }
    expect(provider.calls).toEqual([]);
  });

  it('20. a denial by a provider never falls through to the next provider', async () => {
    const value = fresh();
    const denying = scripted('vault', () => {
      throw new AccessDeniedError('permission denied', { provider: 'vault' });
    });
    const next = answering('fallback', value);
    const h = client({ environment: 'dev', providers: [denying, next] });
    await denied(h, () => h.secrets.get('secret://orders-db/password'), value, { code: 'ACCESS_DENIED' });
    expect(next.calls).toEqual([]);
  });

  it('21. an approval hook that never answers denies at the timeout, before any provider call', async () => {
    const value = fresh();
    const provider = answering('store', value, { metadata: { environment: 'prod' } }, { environment: 'prod' });
    const h = client({
      environment: 'staging',
      providers: [provider],
      approvalTimeoutMs: 30,
      crossEnvironment: [{ from: 'staging', to: 'prod', refs: 'secret://orders-db/*', reason: 'reconcile', approve: () => new Promise<boolean>(() => {}) }],
    });
    const { err } = await denied(h, () => h.secrets.get('secret://orders-db/password?env=prod'), value, { code: 'ENVIRONMENT_MISMATCH' });
    expect(err.message).toContain('no answer within 30 ms');
    expect(provider.calls).toEqual([]);
  });
});
