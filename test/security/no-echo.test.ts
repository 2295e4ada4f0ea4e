/**
 * Issue 9, item 5: "error messages echo their input". Every validator is fed a canary (a random
 * string standing for a secret pasted into the wrong field), in every field it checks; the
 * canary must appear in no error it raises: message, String(), util.inspect (causes included)
 * or any property. Errors must still say which field is wrong.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets, type SecretsOptions } from '../../src/client.js';
import { parseDuration } from '../../src/duration.js';
import { compileCrossRules } from '../../src/guard/crossEnvironment.js';
import { compileRefGlob } from '../../src/guard/glob.js';
import { definePolicy, loadPolicy, type PolicyDocument } from '../../src/guard/policy.js';
import { assertTimeZone, parseDailyWindow } from '../../src/guard/timeWindow.js';
import { defineSecrets } from '../../src/manifest.js';
import { fromFile } from '../../src/providers/fromFile.js';
import { createLogger } from '../../src/redact/logger.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { errorText } from '../helpers.js';

/** A canary: letters and digits only, so it survives (and is found through) any case change. */
const canary = () => `cnry${randomBytes(8).toString('hex')}`;

/** Every text an error exposes, lower-cased. */
function exposed(err: unknown): string {
  return `${errorText(err)}\n${util.inspect(err, { depth: Infinity, showHidden: true })}`.toLowerCase();
}

/** Runs `fn`; expects a typed error that says `field` and shows no canary. */
async function expectNoEcho(c: string, fn: () => unknown, field?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').toBeDefined();
  expect((caught as { code?: string }).code, String(caught)).toMatch(/^(CONFIG_INVALID|INVALID_REF)$/);
  expect(exposed(caught)).not.toContain(c.toLowerCase());
  if (field !== undefined) expect((caught as Error).message).toMatch(field);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-no-echo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rule = (extra: Record<string, unknown>) =>
  ({ version: 1, rules: [{ name: 'r', identity: '*', allow: ['secret://x'], ...extra }] }) as unknown as PolicyDocument;

describe('durations', () => {
  it('name the field, never the text', async () => {
    const c = canary();
    await expectNoEcho(c, () => parseDuration(c), /duration is not a duration/);
    await expectNoEcho(c, () => parseDuration(`30d${c}`));
    await expectNoEcho(c, () => parseDuration(`${c}1h`, 'rotation'), /^rotation is not/);
    await expectNoEcho(c, () =>
      defineSecrets({ db: { ref: 'secret://db', owner: 'o', purpose: 'p', rotation: `${c}` } }),
      /secret spec "db": rotation is not a duration/,
    );
  });

  it('parseDuration(null) and other non-strings are a ConfigError, not a TypeError', () => {
    for (const bad of [null, undefined, 30, {}, ['1d']]) {
      expect(() => parseDuration(bad as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/must be a string/) }));
    }
  });

  it('a huge duration is a ConfigError, not Infinity, and every result fits a Date', () => {
    for (const huge of [`${'9'.repeat(40)}d`, '100000001d', `${'9'.repeat(60)}ms`]) {
      expect(() => parseDuration(huge)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    const longest = parseDuration('100000000d');
    expect(Number.isFinite(longest)).toBe(true);
    expect(new Date(longest).getTime()).toBe(longest);
    expect(parseDuration('1h30m')).toBe(5_400_000);
  });
});

describe('policy validators', () => {
  it('windows, time zones, globs, instants and unknown keys', async () => {
    const c = canary();
    await expectNoEcho(c, () => parseDailyWindow(c));
    await expectNoEcho(c, () => parseDailyWindow(`01:00-05:00${c}`));
    await expectNoEcho(c, () => assertTimeZone(`Europe/${c}`), /timeZone/);
    await expectNoEcho(c, () => definePolicy(rule({ windows: ['01:00-02:00', c] })), /policy rule 0 \("r"\): windows\[1\]: not a daily window/);
    await expectNoEcho(c, () => definePolicy(rule({ timeZone: c })), /timeZone/);
    await expectNoEcho(c, () => definePolicy(rule({ notBefore: c })), /notBefore/);
    await expectNoEcho(c, () => definePolicy(rule({ [c]: true })), /unknown key/);
    await expectNoEcho(c, () => definePolicy({ version: 1, rules: [], [c]: 1 } as never), /unknown key/);
    for (const glob of [c, `postgres://etl:${c}@db`, `secret://x?${c}=1`, `secret://x#${c}`, `secret://a/../${c}`, `Secret:${c}`]) {
      await expectNoEcho(c, () => compileRefGlob(glob));
      await expectNoEcho(c, () => compileRefGlob(glob, true));
      await expectNoEcho(c, () => definePolicy(rule({ deny: ['secret://y', glob] })), /deny\[1\]/);
      await expectNoEcho(c, () => compileCrossRules([{ from: 'dev', to: 'prod', refs: ['secret://y', glob], reason: 'r' }]), /refs\[1\]/);
    }
    await expectNoEcho(c, () => compileCrossRules([{ from: `${c}!`, to: 'prod', refs: 'secret://x', reason: 'r' }]), /from/);
    await expectNoEcho(c, () => compileCrossRules([{ from: 'dev', to: `${c}!`, refs: 'secret://x', reason: 'r' }]), /to/);
  });

  it('loadPolicy: JSON and YAML parse errors say where, never what', async () => {
    const c = canary();
    const cases: [string, string, RegExp][] = [
      ['p.json', `{"version":1,\n "rules": [${c}]}`, /not valid JSON \((a syntax error|it ends too early)/],
      ['q.json', `${c}`, /not valid JSON/],
      ['r.json', `{"version":1,"rules":["${c}`, /not valid JSON/],
      ['s.yaml', `version: 1\nrules: [\n  ${c}: "x`, /not valid YAML \(a syntax error/],
      ['t.yaml', `version: 1\n${c}: 1\n${c}: 2\n`, /not valid YAML/],
      ['u.json', JSON.stringify({ version: 1, rules: [{ name: 'r', identity: '*', allow: ['secret://x'], windows: [c] }] }), /windows\[0\]/],
      ['v.json', JSON.stringify({ version: 1, rules: [{ name: 'r', identity: '*', allow: [`mysql://u:${c}@h/db`] }] }), /allow\[0\]/],
    ];
    for (const [name, content, field] of cases) {
      const path = join(dir, name);
      await writeFile(path, content);
      await chmod(path, 0o600);
      await expectNoEcho(c, () => loadPolicy(path), field);
    }
  });
});

describe('options, manifests, refs and providers', () => {
  it('createSecrets, createRedactor, createLogger', async () => {
    const c = canary();
    const mock = fromMock();
    const base: SecretsOptions = { environment: 'dev', providers: [mock] };
    await expectNoEcho(c, () => createSecrets({ ...base, environment: c.toUpperCase() }), /environment/);
    await expectNoEcho(c, () => createSecrets({ ...base, [c]: 1 } as never), /unknown key/);
    await expectNoEcho(c, () => createSecrets({ ...base, cache: { [c]: 1 } } as never), /cache/);
    await expectNoEcho(c, () => createSecrets({ providers: [mock], env: { CONNECTOR_SECRETS_ENV: `${c} x` } }), /CONNECTOR_SECRETS_ENV/);
    await expectNoEcho(c, () => createSecrets({ ...base, anomaly: { timeZone: c } }), /anomaly\.timeZone/);
    await expectNoEcho(c, () => createSecrets({ ...base, policy: rule({ windows: [c] }) }), /windows\[0\]/);
    await expectNoEcho(c, () => createSecrets({ ...base, crossEnvironment: [{ from: 'dev', to: 'prod', refs: `x://u:${c}@h`, reason: 'r' }] }));
    await expectNoEcho(c, () => createRedactor({ [c]: true } as never), /unknown key/);
    await expectNoEcho(c, () => createLogger(createRedactor(), { [c]: true } as never), /unknown key/);
  });

  it('defineSecrets names the entry and the field', async () => {
    const c = canary();
    await expectNoEcho(c, () => defineSecrets({ db: { ref: `postgres://etl:${c}@db/orders`, owner: 'o', purpose: 'p' } }), /secret spec "db": ref/);
    await expectNoEcho(c, () => defineSecrets({ db: { ref: c, owner: 'o', purpose: 'p' } }), /secret spec "db": ref/);
    await expectNoEcho(c, () => defineSecrets({ db: { ref: 'secret://db', owner: 'o', purpose: 'p', [c]: 1 } as never }), /unknown key/);
    await expectNoEcho(c, () => defineSecrets({ db: { ref: 'secret://db', owner: 'o', purpose: 'p', sensitivity: c } as never }), /sensitivity/);
  });

  it('parseRef, unknown params, unserved schemes and provider params: no part of the input, in the error or the audit record', async () => {
    const c = canary();
    for (const input of [c, `${c}://`, `x://a?${c}`, `x://a?${c}=`, `x://a?a=1&a=${c}`, `x://a?${c}=1&${c}=2`, `x://a/%ZZ${c}`, `x://a#b..${c}`, `x://${c}@h`]) {
      await expectNoEcho(c, () => parseRef(input));
    }
    const events: AuditEvent[] = [];
    const secrets = createSecrets({
      environment: 'dev',
      providers: [fromMock({ schemes: ['vault'], logical: false }), fromFile({ root: dir })],
      audit: callbackAuditSink((e) => void events.push(e)),
    });
    // Parsed refs that no provider takes: a pasted webhook URL, a token as a param name or value.
    for (const input of [`https://hooks.example.com/services/${c}`, `vault://kv/x?${c}=1`, `vault://kv/x?token=${c}`, `vault://kv/x?env=${c}!`]) {
      await expectNoEcho(c, () => secrets.get(input));
    }
    // A ref that routes (a provider serves its scheme and declares its params) is an identifier and
    // may be named in err.ref and the audit record; the message still does not repeat a bad value.
    const err = (await secrets.get(`file://x?encoding=${c}`).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain(c);
    await secrets.close();
    expect(events.length).toBeGreaterThan(4);
    expect(JSON.stringify(events.slice(0, 4)).toLowerCase()).not.toContain(c.toLowerCase());
  });
});
