import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets, type SecretsOptions } from '../../src/client.js';
import { definePolicy } from '../../src/guard/policy.js';
import { defineSecrets } from '../../src/manifest.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { fakeClock, generated, rejection } from '../helpers.js';

function audited(options: Omit<SecretsOptions, 'audit'>) {
  const events: AuditEvent[] = [];
  const secrets = createSecrets({ ...options, audit: callbackAuditSink((e) => void events.push(e)) });
  return { secrets, events };
}

describe('environment guard in the client', () => {
  it('a ref with ?env= of another environment is denied before any provider call, unless a rule allows it', async () => {
    const mock = fromMock();
    mock.set('secret://db?env=prod', generated(), { metadata: { environment: 'prod' } });
    const { secrets, events } = audited({ environment: 'dev', providers: [mock] });
    const err = await rejection(secrets.get('secret://db?env=prod'));
    expect(err).toMatchObject({ code: 'ENVIRONMENT_MISMATCH', environment: 'dev', targetEnvironment: 'prod' });
    expect(mock.calls).toBe(0);
    expect(events.at(-1)).toMatchObject({ outcome: 'denied', code: 'ENVIRONMENT_MISMATCH', ref: 'secret://db?env=prod' });
    // The same env as the process is fine.
    mock.set('secret://db?env=dev', 'v', { metadata: { environment: 'dev' } });
    await expect(secrets.get('secret://db?env=dev')).resolves.toBeDefined();
  });

  it('a crossEnvironment rule allows the crossing, asks approve before the fetch, and is audited with its name and reason', async () => {
    const value = generated();
    const prod = fromMock({ name: 'prod-store', environment: 'prod' });
    prod.set('secret://replica/password?env=prod', value, { metadata: { environment: 'prod' } });
    const approve = vi.fn(async () => true);
    const { secrets, events } = audited({
      environment: 'staging',
      identity: 'reconciler',
      providers: [prod],
      crossEnvironment: [{ name: 'replica', from: 'staging', to: 'prod', refs: 'secret://replica/*', reason: 'nightly reconciliation', approve }],
    });
    const s = await secrets.get('secret://replica/password?env=prod');
    expect(s.reveal()).toBe(value);
    expect(approve).toHaveBeenCalledWith(
      expect.objectContaining({ kind: 'cross-environment', ref: 'secret://replica/password?env=prod', identity: 'reconciler', environment: 'staging', targetEnvironment: 'prod', rule: 'replica', reason: 'nightly reconciliation' }),
    );
    expect(events.at(-1)).toMatchObject({ outcome: 'success', rule: 'replica', reason: expect.stringContaining('nightly reconciliation') });
    // A cache hit does not ask again, and is still audited with the rule.
    await secrets.get('secret://replica/password?env=prod');
    expect(approve).toHaveBeenCalledTimes(1);
    expect(events.at(-1)).toMatchObject({ action: 'cache-hit', rule: 'replica' });
    // Other refs are not covered by the rule.
    expect(await rejection(secrets.get('secret://other?env=prod'))).toMatchObject({ code: 'ENVIRONMENT_MISMATCH' });
  });

  it('a refused approval denies the crossing without calling any provider', async () => {
    const prod = fromMock({ environment: 'prod' });
    prod.set('secret://replica/x?env=prod', generated(), { metadata: { environment: 'prod' } });
    const secrets = createSecrets({
      environment: 'dev',
      providers: [prod],
      crossEnvironment: [{ from: '*', to: 'prod', refs: ['secret://replica/**'], reason: 'debugging', approve: () => false }],
    });
    expect(await rejection(secrets.get('secret://replica/x?env=prod'))).toMatchObject({
      code: 'ENVIRONMENT_MISMATCH',
      message: expect.stringContaining('crossEnvironment[0]'),
    });
    expect(prod.calls).toBe(0);
  });

  it('validates crossEnvironment rules at creation', () => {
    const p = [fromMock()];
    expect(() => createSecrets({ environment: 'dev', providers: p, crossEnvironment: [{ from: 'dev', to: 'prod', refs: 'secret://x', reason: '' }] })).toThrow(/reason is required/);
    expect(() => createSecrets({ environment: 'dev', providers: p, crossEnvironment: [{ from: 'dev', to: 'dev', refs: 'secret://x', reason: 'r' }] })).toThrow(/same environment/);
    expect(() => createSecrets({ environment: 'dev', providers: p, crossEnvironment: [{ from: 'dev', to: 'prod', refs: [], reason: 'r' }] })).toThrow(/at least one/);
    expect(() => createSecrets({ environment: 'dev', providers: p, crossEnvironment: [{ from: 'dev', to: 'Prod!', refs: 'secret://x', reason: 'r' }] })).toThrow(/environment tag/);
  });

  it('strict mode: untagged values are denied in staging and prod by default; a bound provider tags its values', async () => {
    const value = generated();
    const unbound = fromMock();
    unbound.set('secret://x', value);
    const staging = createSecrets({ environment: 'staging', providers: [unbound] });
    expect(await rejection(staging.get('secret://x'))).toMatchObject({ code: 'ENVIRONMENT_MISMATCH', message: expect.stringContaining('no environment tag') });
    const relaxed = createSecrets({ environment: 'staging', providers: [unbound], strictEnvironment: false });
    await expect(relaxed.get('secret://x')).resolves.toBeDefined();
    const bound = fromMock({ environment: 'staging' });
    bound.set('secret://x', value);
    await expect(createSecrets({ environment: 'staging', providers: [bound] }).get('secret://x')).resolves.toBeDefined();
    // dev is not strict by default, but can be made so.
    await expect(createSecrets({ environment: 'dev', providers: [unbound] }).get('secret://x')).resolves.toBeDefined();
    expect(await rejection(createSecrets({ environment: 'dev', providers: [unbound], strictEnvironment: true }).get('secret://x'))).toMatchObject({
      code: 'ENVIRONMENT_MISMATCH',
    });
  });

  it("a secret's own tag wins over its provider's binding", async () => {
    const bound = fromMock({ environment: 'dev' });
    bound.set('secret://x', generated(), { metadata: { environment: 'prod' } });
    const secrets = createSecrets({ environment: 'dev', providers: [bound] });
    expect(await rejection(secrets.get('secret://x'))).toMatchObject({ code: 'ENVIRONMENT_MISMATCH', targetEnvironment: 'prod', provider: 'mock' });
  });

  it('metadata expiresAt in the past is SECRET_EXPIRED; an unreadable one too', async () => {
    const clock = fakeClock();
    const mock = fromMock();
    mock.set('secret://old', generated(), { metadata: { expiresAt: new Date(clock.now() - 1).toISOString() } });
    mock.set('secret://garbled', generated(), { metadata: { expiresAt: 'soon' } });
    mock.set('secret://fresh', generated(), { metadata: { expiresAt: new Date(clock.now() + 60_000).toISOString() } });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], now: clock.now });
    expect(await rejection(secrets.get('secret://old'))).toMatchObject({ code: 'SECRET_EXPIRED' });
    expect(await rejection(secrets.get('secret://garbled'))).toMatchObject({ code: 'SECRET_EXPIRED' });
    await expect(secrets.get('secret://fresh')).resolves.toBeDefined();
  });

  it('providers bound to another environment are skipped, and a miss says so', async () => {
    const dev = fromMock({ name: 'dev-store', environment: 'dev' });
    const prod = fromMock({ name: 'prod-store', environment: 'prod' });
    prod.set('secret://only-in-prod', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [dev, prod] });
    const err = await rejection(secrets.get('secret://only-in-prod'));
    expect(err).toMatchObject({ code: 'SECRET_NOT_FOUND', message: expect.stringContaining('prod-store (prod)') });
    expect(prod.calls).toBe(0);
  });
});

describe('policy in the client', () => {
  const clock = fakeClock(Date.UTC(2026, 0, 15, 2, 0));

  it('denies what the policy does not allow, naming the rule; audited with the rule', async () => {
    const mock = fromMock();
    mock.set('secret://orders-db/password', generated());
    mock.set('secret://orders-db/admin', generated());
    const { secrets, events } = audited({
      environment: 'dev',
      identity: 'orders-sync',
      providers: [mock],
      now: clock.now,
      policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*'], deny: ['secret://orders-db/admin'] }] },
    });
    await expect(secrets.get('secret://orders-db/password')).resolves.toBeDefined();
    expect(events.at(-1)).toMatchObject({ outcome: 'success', rule: 'orders' });
    const err = await rejection(secrets.get('secret://orders-db/admin'));
    expect(err).toMatchObject({ code: 'POLICY_DENIED', rule: 'orders' });
    expect(events.at(-1)).toMatchObject({ outcome: 'denied', code: 'POLICY_DENIED', rule: 'orders' });
    expect(await rejection(secrets.get('secret://billing'))).toMatchObject({ code: 'POLICY_DENIED', rule: '(default)' });
    expect(mock.callsFor('secret://orders-db/admin')).toBe(0);
  });

  it('a time window is checked on every access, cache hits included', async () => {
    const c = fakeClock(Date.UTC(2026, 0, 15, 4, 59));
    const mock = fromMock();
    mock.set('secret://x', generated());
    const secrets = createSecrets({
      environment: 'dev',
      providers: [mock],
      now: c.now,
      policy: definePolicy({ version: 1, rules: [{ name: 'batch', identity: '*', allow: ['secret://x'], windows: ['01:00-05:00'] }] }),
    });
    await secrets.get('secret://x');
    c.advance(60_000);
    expect(await rejection(secrets.get('secret://x'))).toMatchObject({ code: 'POLICY_DENIED', rule: 'batch', message: expect.stringContaining('daily windows') });
  });

  it('requireApproval: asks the approve hook once per fetch with the sensitivity; without a hook, denies', async () => {
    const mock = fromMock();
    mock.set('secret://db', JSON.stringify({ password: generated() }), { metadata: { sensitivity: 'critical' } });
    const policy = { version: 1 as const, rules: [{ name: 'crit', identity: '*', allow: ['secret://db'], requireApproval: 'critical' as const }] };
    const noHook = createSecrets({ environment: 'dev', providers: [mock], policy, now: clock.now });
    expect(await rejection(noHook.get('secret://db'))).toMatchObject({ code: 'POLICY_DENIED', message: expect.stringContaining('no approve hook') });
    const approve = vi.fn(async () => true);
    const secrets = createSecrets({ environment: 'dev', providers: [mock], policy, approve, now: clock.now });
    await secrets.get('secret://db#password');
    await secrets.get('secret://db');
    expect(approve).toHaveBeenCalledTimes(1);
    expect(approve).toHaveBeenCalledWith(expect.objectContaining({ kind: 'policy', rule: 'crit', sensitivity: 'critical' }));
  });

  it('a manifest sensitivity is checked before the fetch', async () => {
    const mock = fromMock();
    mock.set('secret://db', JSON.stringify({ u: 'etl', p: generated() }));
    const secrets = createSecrets({
      environment: 'dev',
      providers: [mock],
      now: clock.now,
      policy: { version: 1, rules: [{ name: 'low-only', identity: '*', allow: ['secret://**'], maxSensitivity: 'medium' }] },
    });
    const m = defineSecrets({ db: { ref: 'secret://db', owner: 'o', purpose: 'p', sensitivity: 'critical', schema: z.object({ u: z.string(), p: z.string() }) } });
    expect(await rejection(secrets.load(m))).toMatchObject({ code: 'POLICY_DENIED', rule: 'low-only' });
    expect(mock.calls).toBe(0);
    // Unknown sensitivity counts as the policy default (high) after the fetch: denied, value dropped.
    expect(await rejection(secrets.get('secret://db'))).toMatchObject({ code: 'POLICY_DENIED', message: expect.stringContaining('dropped') });
  });

  it('a manifest that under-declares its sensitivity is checked again against the metadata label after the fetch', async () => {
    const value = generated();
    const mock = fromMock();
    mock.set('secret://db', JSON.stringify({ u: 'etl', p: value }), { metadata: { sensitivity: 'critical' } });
    const { secrets, events } = audited({
      environment: 'dev',
      providers: [mock],
      now: clock.now,
      redaction: { detectors: false },
      policy: { version: 1, rules: [{ name: 'low-only', identity: '*', allow: ['secret://**'], maxSensitivity: 'medium' }] },
    });
    const m = defineSecrets({ db: { ref: 'secret://db', owner: 'o', purpose: 'p', sensitivity: 'low', schema: z.object({ u: z.string(), p: z.string() }) } });
    const err = await rejection(secrets.load(m));
    expect(err).toMatchObject({ code: 'POLICY_DENIED', rule: 'low-only', message: expect.stringContaining('critical is above') });
    expect(mock.calls).toBe(1);
    expect(events.at(-1)).toMatchObject({ outcome: 'denied', code: 'POLICY_DENIED', rule: 'low-only' });
    expect(secrets.redactor.redact(`x ${value} x`)).toBe(`x ${value} x`);
    // Under-declaring does not skip requireApproval either.
    const approve = vi.fn(async () => false);
    const gated = createSecrets({
      environment: 'dev',
      providers: [mock],
      now: clock.now,
      approve,
      policy: { version: 1, rules: [{ name: 'ask', identity: '*', allow: ['secret://**'], requireApproval: 'critical' }] },
    });
    expect(await rejection(gated.load(m))).toMatchObject({ code: 'POLICY_DENIED', rule: 'ask' });
    expect(approve).toHaveBeenCalledWith(expect.objectContaining({ kind: 'policy', sensitivity: 'critical' }));
  });

  describe('from a file', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cs-client-policy-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('loads a YAML policy on first access', async () => {
      const path = join(dir, 'policy.yml');
      await writeFile(path, "version: 1\nrules:\n  - name: all-x\n    identity: '*'\n    allow: ['secret://x']\n");
      await chmod(path, 0o600);
      const mock = fromMock();
      mock.set('secret://x', generated());
      mock.set('secret://y', generated());
      const secrets = createSecrets({ environment: 'dev', providers: [mock], policy: path });
      await expect(secrets.get('secret://x')).resolves.toBeDefined();
      expect(await rejection(secrets.get('secret://y'))).toMatchObject({ code: 'POLICY_DENIED', rule: '(default)' });
    });

    it('a policy file that fails to load denies every access (never falls back to no policy)', async () => {
      const path = join(dir, 'policy.json');
      await writeFile(path, '{"version":1,"rules":[{"name":"x","identity":"*","allow":["*://**"],"sudo":true}]}');
      await chmod(path, 0o600);
      const mock = fromMock();
      mock.set('secret://x', generated());
      const secrets = createSecrets({ environment: 'dev', providers: [mock], policy: { path } });
      const err = await rejection(secrets.get('secret://x'));
      expect(err).toMatchObject({ code: 'POLICY_DENIED', rule: '(policy file)', message: expect.stringContaining('rules.0: 1 unknown key') });
      // The unknown key is counted, never named.
      expect(err.message).not.toContain('sudo');
      expect(mock.calls).toBe(0);
    });
  });

  it('rejects invalid inline policies at creation', () => {
    expect(() => createSecrets({ environment: 'dev', providers: [fromMock()], policy: { version: 1, rules: [{ name: 'a', identity: '*' }] } })).toThrow(/at least one allow or deny/);
  });
});

describe('secure defaults', () => {
  it('a prod client without an audit sink is a ConfigError saying how to add one, unless audit: false', () => {
    const p = [fromMock({ environment: 'prod' })];
    expect(() => createSecrets({ environment: 'prod', providers: p })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('fileAuditSink') }),
    );
    expect(() => createSecrets({ environment: 'prod', providers: p, audit: [] })).toThrow(/audit sink/);
    expect(() => createSecrets({ environment: 'prod', providers: p, audit: false })).not.toThrow();
    expect(() => createSecrets({ providers: p, env: { CONNECTOR_SECRETS_ENV: 'prod' } })).toThrow(/audit sink/);
    expect(() => createSecrets({ environment: 'dev', providers: p })).not.toThrow();
  });

  it("auditFailure 'warn' (the default outside prod) serves the value and reports the sink failure", async () => {
    const mock = fromMock();
    mock.set('secret://x', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], audit: callbackAuditSink(() => Promise.reject(new Error('down'))) });
    const errors: unknown[] = [];
    secrets.on('audit-error', (e) => void errors.push(e));
    await expect(secrets.get('secret://x')).resolves.toBeDefined();
    expect(errors).toMatchObject([{ code: 'AUDIT_WRITE_FAILED' }]);
    const strict = createSecrets({ environment: 'dev', providers: [mock], auditFailure: 'fail-closed', audit: callbackAuditSink(() => Promise.reject(new Error('down'))) });
    expect(await rejection(strict.get('secret://x'))).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
  });

  it('auditCacheHits: false keeps cache hits out of the sinks, not out of the metrics', async () => {
    const mock = fromMock();
    mock.set('secret://x', generated());
    const { secrets, events } = audited({ environment: 'dev', providers: [mock], auditCacheHits: false });
    await secrets.get('secret://x');
    await secrets.get('secret://x');
    expect(events.map((e) => e.action)).toEqual(['resolve']);
    expect(secrets.metrics()).toMatchObject({ accesses: 2, cacheHits: 1 });
  });

  it('rejects malformed audit options', () => {
    const p = [fromMock()];
    expect(() => createSecrets({ environment: 'dev', providers: p, audit: {} as never })).toThrow(/options: audit/);
    expect(() => createSecrets({ environment: 'dev', providers: p, auditFailure: 'ignore' as never })).toThrow(/auditFailure/);
  });
});
