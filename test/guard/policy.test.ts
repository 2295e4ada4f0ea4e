import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { globTarget } from '../../src/guard/glob.js';
import { definePolicy, isAccessPolicy, loadPolicy, moreSensitive, type PolicyDocument } from '../../src/guard/policy.js';
import { parseRef } from '../../src/ref/parseRef.js';

const T0 = Date.UTC(2026, 0, 15, 2, 0); // 02:00 UTC
const q = (ref: string, extra: { identity?: string | undefined; now?: number; sensitivity?: 'low' | 'medium' | 'high' | 'critical' } = {}) => ({
  target: globTarget(parseRef(ref)),
  identity: 'identity' in extra ? extra.identity : 'orders-sync',
  now: extra.now ?? T0,
  sensitivity: extra.sensitivity,
});

const base: PolicyDocument = {
  version: 1,
  rules: [
    { name: 'orders', identity: 'orders-sync', allow: ['secret://orders-db/*', 'secret://orders-api/**'], deny: ['secret://orders-db/admin'] },
    { name: 'no-prod-kv', identity: '*', deny: ['vault://kv/prod/**'] },
  ],
};

describe('definePolicy / evaluate', () => {
  it('allows what a rule allows, naming the rule; denies anything else with rule (default)', () => {
    const p = definePolicy(base);
    expect(isAccessPolicy(p)).toBe(true);
    expect(p.evaluate(q('secret://orders-db/password'))).toMatchObject({ allowed: true, rule: 'orders' });
    expect(p.evaluate(q('secret://billing/token'))).toMatchObject({ allowed: false, rule: '(default)' });
    expect(p.evaluate(q('secret://orders-db/password', { identity: 'billing-sync' }))).toMatchObject({ allowed: false, rule: '(default)' });
    expect(p.evaluate(q('secret://orders-db/password', { identity: undefined }))).toMatchObject({ allowed: false });
  });

  it('deny wins over allow, from any rule that applies, whatever the case or encoding', () => {
    const p = definePolicy(base);
    for (const ref of ['secret://orders-db/admin', 'secret://orders-db/ADMIN', 'secret://orders-db/%61dmin', 'secret://ORDERS-DB/Admin']) {
      const v = p.evaluate(q(ref));
      expect(v.allowed, ref).toBe(false);
    }
    expect(p.evaluate(q('secret://orders-db/admin'))).toMatchObject({ rule: 'orders', reason: expect.stringContaining('deny glob') });
    expect(p.evaluate(q('vault://kv/PROD/db'))).toMatchObject({ allowed: false, rule: 'no-prod-kv' });
  });

  it('allow globs match the canonical case only (a case variant is not allowed)', () => {
    const p = definePolicy(base);
    expect(p.evaluate(q('secret://ORDERS-DB/password')).allowed).toBe(false);
    expect(p.evaluate(q('secret://orders%2Ddb/password')).allowed).toBe(true);
  });

  it('identity globs', () => {
    const p = definePolicy({ version: 1, rules: [{ name: 'sync', identity: ['*-sync', 'backfill'], allow: ['secret://x'] }] });
    expect(p.evaluate(q('secret://x', { identity: 'orders-sync' })).allowed).toBe(true);
    expect(p.evaluate(q('secret://x', { identity: 'backfill' })).allowed).toBe(true);
    expect(p.evaluate(q('secret://x', { identity: 'backfill-2' })).allowed).toBe(false);
  });

  it('notBefore / notAfter are inclusive bounds', () => {
    const p = definePolicy({
      version: 1,
      rules: [{ name: 'jit', identity: '*', allow: ['secret://x'], notBefore: '2026-01-15T01:00:00Z', notAfter: '2026-01-15T03:00:00Z' }],
    });
    const at = (iso: string) => p.evaluate(q('secret://x', { now: Date.parse(iso) }));
    expect(at('2026-01-15T00:59:59.999Z')).toMatchObject({ allowed: false, rule: 'jit' });
    expect(at('2026-01-15T01:00:00.000Z').allowed).toBe(true);
    expect(at('2026-01-15T03:00:00.000Z').allowed).toBe(true);
    expect(at('2026-01-15T03:00:00.001Z')).toMatchObject({ allowed: false, reason: expect.stringContaining('until') });
  });

  it('daily windows in a time zone, with an exclusive end; flags window denials', () => {
    const p = definePolicy({ version: 1, rules: [{ name: 'batch', identity: '*', allow: ['secret://x'], windows: ['01:00-05:00'], timeZone: 'Europe/Berlin' }] });
    // Berlin is UTC+1 in January: 01:00 Berlin = 00:00 UTC; 05:00 Berlin = 04:00 UTC.
    const at = (h: number, m = 0) => p.evaluate(q('secret://x', { now: Date.UTC(2026, 0, 15, h, m) }));
    expect(at(23, 59)).toMatchObject({ allowed: false, outsideWindow: true, rule: 'batch' });
    expect(at(0, 0).allowed).toBe(true);
    expect(at(3, 59).allowed).toBe(true);
    expect(at(4, 0)).toMatchObject({ allowed: false, outsideWindow: true });
  });

  it('max sensitivity and requireApproval (at or above); unknown sensitivity defers', () => {
    const p = definePolicy({
      version: 1,
      rules: [{ name: 'r', identity: '*', allow: ['secret://x'], maxSensitivity: 'high', requireApproval: 'high' }],
    });
    expect(p.evaluate(q('secret://x', { sensitivity: 'medium' }))).toMatchObject({ allowed: true, approval: undefined, deferred: false });
    expect(p.evaluate(q('secret://x', { sensitivity: 'high' }))).toMatchObject({ allowed: true, approval: 'high' });
    expect(p.evaluate(q('secret://x', { sensitivity: 'critical' }))).toMatchObject({ allowed: false, reason: expect.stringContaining('above') });
    expect(p.evaluate(q('secret://x'))).toMatchObject({ allowed: true, deferred: true });
    expect(moreSensitive('low', 'high')).toBe('high');
    expect(moreSensitive('bogus', 'low')).toBe('critical');
    expect(moreSensitive(undefined, undefined)).toBeUndefined();
  });

  it('rejects invalid documents with the rule and the reason', () => {
    const bad: [unknown, RegExp][] = [
      [{ version: 2, rules: [] }, /version/],
      // An unknown key is counted, never named (it could be a pasted secret): see the canary test.
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['secret://x'], admin: true }] }, /rules\.0: 1 unknown key \(not shown/],
      [{ version: 1, rules: [{ name: 'a', identity: '*' }] }, /at least one allow or deny/],
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['x'] }, { name: 'a', identity: '*', allow: ['secret://y'] }] }, /not a valid ref glob|used twice/],
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['secret://x'] }, { name: 'a', identity: '*', allow: ['secret://y'] }] }, /used twice/],
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['secret://x'], windows: ['1-5'] }] }, /daily window/],
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['secret://x'], timeZone: 'Nowhere/City' }] }, /time zone/],
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['secret://x'], notBefore: 'tomorrow' }] }, /notBefore/],
      [{ version: 1, rules: [{ name: 'a', identity: '*', allow: ['secret://x'], notBefore: '2026-02-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' }] }, /before notBefore/],
      [JSON.parse('{"version":1,"rules":[],"__proto__":{"rules":[]}}'), /\(policy\): 1 unknown key/i],
    ];
    for (const [doc, why] of bad) expect(() => definePolicy(doc as PolicyDocument), JSON.stringify(doc)).toThrow(why);
  });
});

describe('loadPolicy', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-policy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, text: string, mode = 0o644) => {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  };

  it('loads JSON and YAML files', async () => {
    const json = await loadPolicy(await write('p.json', JSON.stringify(base)));
    expect(json.ruleNames).toEqual(['orders', 'no-prod-kv']);
    const yaml = await loadPolicy(
      await write(
        'p.yaml',
        ['version: 1', 'rules:', '  - name: batch', '    identity: orders-sync', '    allow: ["secret://orders-db/*"]', "    windows: ['01:00-05:00']", '    timeZone: Europe/Berlin', ''].join('\n'),
      ),
    );
    expect(yaml.ruleNames).toEqual(['batch']);
    expect(yaml.windows[0]?.window.source).toBe('01:00-05:00');
  });

  it('refuses a file whose digest differs from the pinned sha256 (an edited or forged file)', async () => {
    const text = JSON.stringify(base);
    const path = await write('p.json', text);
    const sha256 = createHash('sha256').update(text).digest('hex');
    await expect(loadPolicy(path, { sha256 })).resolves.toBeDefined();
    const forged = JSON.stringify({ version: 1, rules: [{ name: 'orders', identity: '*', allow: ['*://**'] }] });
    await write('p.json', forged);
    await expect(loadPolicy(path, { sha256 })).rejects.toThrow(/pinned sha256/);
  });

  it.skipIf(process.platform === 'win32')('refuses a file writable by group or others', async () => {
    const path = await write('p.json', JSON.stringify(base), 0o666);
    await expect(loadPolicy(path)).rejects.toThrow(/writable by group or others/);
  });

  it('refuses unreadable, malformed and invalid files with ConfigError', async () => {
    await expect(loadPolicy(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('ENOENT') });
    await expect(loadPolicy(await write('bad.json', '{"version":1,'))).rejects.toThrow(/not valid JSON/);
    await expect(loadPolicy(await write('bad.yaml', 'version: 1\nrules: [\n'))).rejects.toThrow(/not valid YAML/);
    await expect(loadPolicy(await write('dup.yaml', 'version: 1\nrules: []\nrules: []\n'))).rejects.toThrow(/not valid YAML/);
    await expect(loadPolicy(await write('extra.json', JSON.stringify({ ...base, allowAll: true })))).rejects.toThrow(/\(policy\): 1 unknown key \(not shown/);
  });
});
