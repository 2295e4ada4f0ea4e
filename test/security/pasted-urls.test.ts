/**
 * Issue 9, item 3: "user input that may be a secret reaches an error, a ref field, an audit
 * record or a log". Connection URLs with credentials, whatever the password holds (`/ # ? @ %`,
 * Unicode), go through every public entry point that takes a ref string; the password must come
 * back nowhere: no error property, String(err), util.inspect(err), or audit record.
 *
 * Item 8 (second half): a ref refused by `handle()` is audited like one refused by `get()`.
 */
import util from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets } from '../../src/client.js';
import { definePolicy } from '../../src/guard/policy.js';
import { defineSecrets } from '../../src/manifest.js';
import { fromEnv } from '../../src/providers/fromEnv.js';
import { formatRef } from '../../src/ref/formatRef.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { errorText } from '../helpers.js';

const ALNUM = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
/** The distinctive middle of each password: what must never come back, in any case or encoding. */
const core = fc.array(fc.constantFrom(...ALNUM), { minLength: 10, maxLength: 14 }).map((a) => `pw${a.join('')}`);
const hostile = fc
  .array(fc.constantFrom('/', '#', '?', '@', '%', ':', '&', '=', '+', ' ', '%40', '%2F', '%zz', '..', 'é', 'ß', 'ı', 'ſ', '🔑', 'Ω', '\\', '~', '*'), { maxLength: 5 })
  .map((a) => a.join(''));

interface Pasted {
  readonly url: string;
  readonly core: string;
  readonly password: string;
}

/** A connection URL with credentials, shaped in many ways. */
const pasted: fc.Arbitrary<Pasted> = fc
  .record({
    scheme: fc.constantFrom('postgres', 'mysql', 'redis', 'https', 'secret', 'vault', 'env', 'file', 'local', 'mongodb+srv'),
    user: fc.constantFrom('etl', 'admin', '', 'u.s-e_r'),
    before: hostile,
    core,
    after: hostile,
    withUser: fc.boolean(),
    host: fc.constantFrom('db.internal', '10.0.0.7:5432', '[::1]:6379', 'h'),
    tail: fc.constantFrom('', '/orders', '/orders?sslmode=require', '/db#frag', '?x=1', '/a/b/c'),
  })
  .map((p) => {
    const password = `${p.before}${p.core}${p.after}`;
    const userinfo = p.withUser ? `${p.user}:${password}` : password;
    return { url: `${p.scheme}://${userinfo}@${p.host}${p.tail}`, core: p.core, password };
  });

/** Every form of the password that must not appear, lower-cased. */
function forms(p: Pasted): string[] {
  const out = [p.core, p.password, p.password.toUpperCase(), encodeURIComponent(p.password), encodeURIComponent(p.password).toUpperCase()];
  return [...new Set(out.map((f) => f.toLowerCase()))];
}

function exposed(err: unknown): string {
  return `${errorText(err)}\n${util.inspect(err, { depth: Infinity, showHidden: true })}\n${JSON.stringify((err as { ref?: unknown }).ref ?? null)}`.toLowerCase();
}

function assertAbsent(haystack: string, p: Pasted, where: string): void {
  for (const form of forms(p)) {
    if (haystack.includes(form)) expect.fail(`${where} shows a form of the generated password`);
  }
}

/** Calls `fn`; the password must not appear in what it throws. Returns whether it threw. */
async function through(p: Pasted, where: string, fn: () => unknown): Promise<boolean> {
  try {
    await fn();
    return false;
  } catch (err) {
    assertAbsent(exposed(err), p, where);
    return true;
  }
}

function client() {
  const events: AuditEvent[] = [];
  const mock = fromMock({ name: 'any' });
  const secrets = createSecrets({
    environment: 'dev',
    // Every scheme and logical refs are served, so nothing is refused for want of a provider.
    providers: [fromEnv({ env: {} }), mock],
    audit: callbackAuditSink((e) => void events.push(e)),
    strictEnvironment: false,
  });
  return { secrets, events, mock };
}

describe('pasted connection URLs through every entry point', () => {
  it('are refused, and no form of the password reaches an error or an audit record', async () => {
    await fc.assert(
      fc.asyncProperty(pasted, async (p) => {
        const { secrets, events, mock } = client();
        const refused: boolean[] = [
          await through(p, 'parseRef', () => parseRef(p.url)),
          await through(p, 'formatRef(parseRef)', () => formatRef(parseRef(p.url))),
          await through(p, 'get', () => secrets.get(p.url)),
          await through(p, 'getBytes', () => secrets.getBytes(p.url)),
          await through(p, 'getMany', () => secrets.getMany({ db: p.url })),
          await through(p, 'handle', () => secrets.handle(p.url)),
          await through(p, 'invalidate', () => secrets.invalidate(p.url)),
          await through(p, 'defineSecrets/load', async () => secrets.load(defineSecrets({ db: { ref: p.url, owner: 'o', purpose: 'p' } }))),
          await through(p, 'policy allow glob', () => definePolicy({ version: 1, rules: [{ name: 'r', identity: '*', allow: [p.url] }] })),
          await through(p, 'policy deny glob', () => definePolicy({ version: 1, rules: [{ name: 'r', identity: '*', deny: [p.url] }] })),
          await through(p, 'crossEnvironment refs', () =>
            createSecrets({ environment: 'dev', providers: [mock], crossEnvironment: [{ from: 'dev', to: 'prod', refs: p.url, reason: 'r' }] }),
          ),
          await through(p, 'fromMock.set', () => mock.set(p.url, 'v')),
        ];
        expect(refused.every(Boolean), `${refused}`).toBe(true);
        // Policy matching given the raw text as a target: the verdict does not quote it.
        const policy = definePolicy({ version: 1, rules: [{ name: 'r', identity: '*', allow: ['secret://x'], deny: ['*://**/admin'] }] });
        const verdict = policy.evaluate({ target: p.url, aliases: [p.url], identity: 'etl', now: 0 });
        expect(verdict.allowed).toBe(false);
        assertAbsent(JSON.stringify(verdict).toLowerCase(), p, 'a policy verdict');
        await secrets.close();
        // The accesses are audited (handle's in the background), with no ref and no password.
        const failures = events.filter((e) => e.outcome === 'failure');
        expect(failures.length).toBeGreaterThanOrEqual(4);
        for (const e of failures) expect(e).toMatchObject({ code: 'INVALID_REF', ref: null });
        assertAbsent(JSON.stringify(events).toLowerCase(), p, 'an audit record');
      }),
      { numRuns: 200 },
    );
  });

  it('the reported instances: a password with /, # or ? and the user-less token form', async () => {
    const { secrets, events } = client();
    for (const url of ['postgres://user:p/sspw0rdx1@host', 'postgres://user:p#sspw0rdx1@host', 'postgres://user:p?sspw0rdx1@host', 'https://ghp_sspw0rdx1@github.com/o/r']) {
      const err = await secrets.get(url).catch((e: unknown) => e as Error & { ref?: string });
      expect(err).toMatchObject({ code: 'INVALID_REF', ref: undefined });
      expect(exposed(err)).not.toContain('sspw0rdx1');
    }
    await secrets.close();
    expect(JSON.stringify(events)).not.toContain('sspw0rdx1');
    expect(JSON.stringify(events).toLowerCase()).not.toContain('SSPW0RDX1'.toLowerCase());
  });
});

describe('every entry point audits a refused ref (item 8)', () => {
  it('handle(invalidRef) throws and records a failure, as get(invalidRef) does', async () => {
    const { secrets, events } = client();
    expect(() => secrets.handle('not a ref')).toThrow(expect.objectContaining({ code: 'INVALID_REF' }));
    await expect(secrets.get('not a ref')).rejects.toMatchObject({ code: 'INVALID_REF' });
    await new Promise((resolve) => setImmediate(resolve));
    const records = events.filter((e) => e.code === 'INVALID_REF');
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ action: 'resolve', outcome: 'failure', ref: null });
    expect(records[1]).toMatchObject({ action: 'resolve', outcome: 'failure', ref: null });
    await secrets.close();
  });

  it('getMany and getBytes audit each refused ref; a ref no provider serves is recorded without its text', async () => {
    const events: AuditEvent[] = [];
    const secrets = createSecrets({ environment: 'dev', providers: [fromMock({ schemes: ['vault'], logical: false })], audit: callbackAuditSink((e) => void events.push(e)) });
    await expect(secrets.getMany({ a: 'bad', b: 'nope://x/y' })).rejects.toBeDefined();
    await expect(secrets.getBytes('bad')).rejects.toMatchObject({ code: 'INVALID_REF' });
    expect(() => secrets.handle('nope://x/y')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.map((e) => [e.code, e.ref])).toEqual([
      ['INVALID_REF', null],
      ['CONFIG_INVALID', null],
      ['INVALID_REF', null],
      ['CONFIG_INVALID', null],
    ]);
    await secrets.close();
  });

  it('getMany without an object of refs is a typed ConfigError, not a TypeError', async () => {
    const { secrets } = client();
    await expect(secrets.getMany(null as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await secrets.close();
  });
});
