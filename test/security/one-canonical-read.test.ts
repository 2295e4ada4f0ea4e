/**
 * Issue 9, item 6: "two layers read one ref differently". Deny globs match the canonical ref,
 * while providers map refs to names of their own (fromEnv upper-cases with full Unicode rules and
 * turns every other character into `_`). For every deny glob and every provider, no spelling
 * that reads a denied name may be served.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromEnv } from '../../src/providers/fromEnv.js';
import { fromFile } from '../../src/providers/fromFile.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { envName } from '../../src/ref/envName.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';

/**
 * Every code point outside ASCII whose upper- or lower-case form changes length or contains
 * ASCII: enumerated from the runtime's own case tables, not a hand-kept list.
 */
function caseUnstableCodePoints(): string[] {
  const out: string[] = [];
  for (let cp = 0x80; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    const upper = ch.toUpperCase();
    const lower = ch.toLowerCase();
    if (upper.length !== ch.length || lower.length !== ch.length || /[\x00-\x7f]/.test(upper + lower)) out.push(ch);
  }
  return out;
}

const UNSTABLE = caseUnstableCodePoints();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-canonical-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Each provider that serves logical refs, holding the value under the name a denied ref reads.
 * `names` are the logical paths (segments joined by `/`) the deny globs cover.
 */
async function providersHolding(names: readonly string[], value: string): Promise<SecretProvider[]> {
  const env: Record<string, string> = {};
  for (const name of names) env[envName(name.split('/'))] = value;
  const root = await mkdtemp(join(dir, 'files-'));
  for (const name of names) {
    const segments = name.split('/');
    await mkdir(join(root, ...segments.slice(0, -1)), { recursive: true });
    await writeFile(join(root, ...segments), value);
  }
  const mock = fromMock({ name: 'mock' });
  for (const name of names) mock.set(`secret://${name.split('/').map(encodeURIComponent).join('/')}`, value);
  const store = fromLocalStore({ name: 'local', path: join(root, 'dev.enc.json'), key: randomBytes(32), environment: 'dev' });
  await store.init();
  for (const name of names) await store.set(name, value);
  return [fromEnv({ env }), fromFile({ name: 'file', root, logical: true }), mock, store];
}

/** A client per provider, whose policy allows every logical ref but denies `deny`. */
function clientsFor(providers: SecretProvider[], deny: readonly string[]) {
  return providers.map((provider) => ({
    provider: provider.name,
    secrets: createSecrets({
      environment: 'dev',
      providers: [provider],
      cache: false,
      strictEnvironment: false,
      audit: false,
      policy: { version: 1, rules: [{ name: 'all-but-denied', identity: '*', allow: ['secret://**'], deny: [...deny] }] },
    }),
  }));
}

/** Asks for `ref`; returns the served value, or the error code. */
async function attempt(secrets: ReturnType<typeof createSecrets>, ref: string): Promise<{ served: string } | { code: string }> {
  try {
    return { served: (await secrets.get(ref)).reveal() };
  } catch (err) {
    return { code: (err as { code?: string }).code ?? 'UNKNOWN' };
  }
}

describe('one canonical read: case-folding characters', () => {
  it('the enumerated class holds the characters of the report, and is not empty by accident', () => {
    for (const ch of ['ı', 'ß', 'ſ', 'İ', '\u212a', 'ﬀ', 'ŉ']) expect(UNSTABLE).toContain(ch);
    expect(UNSTABLE.length).toBeGreaterThan(100);
  });

  it('the reported variants (admın, paßword, paſſword, PAſſWORD) are served by no provider past a deny glob', async () => {
    const value = generated();
    const providers = await providersHolding(['orders-db/admin', 'orders-db/password'], value);
    const clients = clientsFor(providers, ['secret://orders-db/admin', 'secret://orders-db/password']);
    for (const { provider, secrets } of clients) {
      // The control: an allowed name next to the denied ones is not refused (the test can fail).
      for (const ref of ['secret://orders-db/admın', 'secret://orders-db/paßword', 'secret://orders-db/paſſword', 'secret://orders-db/PAſſWORD', `secret://orders-db/${encodeURIComponent('admın')}`]) {
        const got = await attempt(secrets, ref);
        expect({ provider, ref, got }).toEqual({ provider, ref, got: { code: expect.stringMatching(/^(INVALID_REF|POLICY_DENIED)$/) } });
      }
      await secrets.close();
    }
  });

  it('every case-unstable code point, put where it reads as a denied name, is refused by every provider', async () => {
    // For each character c, the denied name holds what fromEnv reads for c; the variant holds c itself.
    const cases = UNSTABLE.map((ch) => ({ ch, denied: `orders-db/k-${envName([ch]).toLowerCase()}-x` }));
    const value = generated();
    const providers = await providersHolding([...new Set(cases.map((c) => c.denied))], value);
    const clients = clientsFor(providers, [...new Set(cases.map((c) => `secret://${c.denied}`))]);
    const served: string[] = [];
    for (const { provider, secrets } of clients) {
      for (const { ch, denied } of cases) {
        for (const ref of [`secret://orders-db/k-${ch}-x`, `secret://orders-db/k-${encodeURIComponent(ch)}-x`, `secret://orders-db/K-${ch}-X`]) {
          const got = await attempt(secrets, ref);
          if ('served' in got) served.push(`${provider}: U+${ch.codePointAt(0)!.toString(16)} for ${denied}`);
        }
      }
      // The control: the names themselves are denied, a name next to them is served.
      expect(await attempt(secrets, `secret://${cases[0]!.denied}`)).toEqual({ code: 'POLICY_DENIED' });
      await secrets.close();
    }
    expect(served).toEqual([]);
  });

  it('non-NFC spellings are refused: a layer that normalizes would read the composed name', async () => {
    const providers = await providersHolding(['orders-db/caf\u00e9'], generated());
    for (const { secrets } of clientsFor(providers, ['secret://orders-db/caf\u00e9'])) {
      expect(await attempt(secrets, 'secret://orders-db/cafe\u0301')).toEqual({ code: 'INVALID_REF' });
      expect(await attempt(secrets, 'secret://orders-db/caf%C3%A9')).toEqual({ code: 'POLICY_DENIED' });
      await secrets.close();
    }
  });
});

describe('one canonical read: spellings fromEnv maps to one variable', () => {
  /** Random spellings of the path `orders-db/admin`: case, separators, segment splits, percent-encoding. */
  const spelling = fc
    .tuple(
      fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }),
      fc.constantFrom('-', '_', '.', '~', '/', '%2D', '%5F', ' ', '\u00e9', '\u00a0'),
      fc.constantFrom('/', '_', '-', '.', '%2E'),
    )
    .map(([upper, inner, between]) => {
      const word = (w: string, offset: number) => [...w].map((c, i) => (upper[offset + i] ? c.toUpperCase() : c)).join('');
      return `secret://${word('orders', 0)}${inner}${word('db', 6)}${between}${word('admin', 8)}`;
    });

  it('every spelling that reads ORDERS_DB_ADMIN is denied by the deny glob secret://orders-db/admin; other names pass', async () => {
    const value = generated();
    const env = { ORDERS_DB_ADMIN: value, ORDERS_DB_ADMIN2: generated() };
    const secrets = createSecrets({
      environment: 'dev',
      providers: [fromEnv({ env })],
      cache: false,
      audit: false,
      policy: { version: 1, rules: [{ name: 'r', identity: '*', allow: ['secret://**'], deny: ['secret://orders-db/admin'] }] },
    });
    // The control: a name next to the denied one is served.
    expect(await attempt(secrets, 'secret://orders-db/admin2')).toEqual({ served: env.ORDERS_DB_ADMIN2 });
    await fc.assert(
      fc.asyncProperty(spelling, async (ref) => {
        const got = await attempt(secrets, ref);
        expect('served' in got ? `served ${ref}` : got.code).toMatch(/^(POLICY_DENIED|INVALID_REF|SECRET_NOT_FOUND)$/);
      }),
      { numRuns: 300 },
    );
    for (const ref of ['secret://orders_db/admin', 'secret://orders/db-admin', 'secret://Orders.DB/ADMIN', 'secret://orders/db/admin', 'secret://orders%2Ddb/admin']) {
      expect(await attempt(secrets, ref)).toEqual({ code: 'POLICY_DENIED' });
    }
    await secrets.close();
  });

  it('wildcards of deny globs cover every spelling of the names they cover', async () => {
    const env = { ORDERS_DB_ADMIN_RO: generated(), BILLING_X: generated() };
    const secrets = createSecrets({
      environment: 'dev',
      providers: [fromEnv({ env })],
      cache: false,
      audit: false,
      policy: { version: 1, rules: [{ name: 'r', identity: '*', allow: ['secret://**'], deny: ['secret://orders-db/*', '*://**/admin-*'] }] },
    });
    expect(await attempt(secrets, 'secret://orders/db/admin/ro')).toEqual({ code: 'POLICY_DENIED' });
    expect(await attempt(secrets, 'secret://ORDERS_DB_ADMIN_RO')).toEqual({ code: 'POLICY_DENIED' });
    expect(await attempt(secrets, 'secret://billing/x')).toEqual({ served: env.BILLING_X });
    await secrets.close();
  });
});

describe('one canonical read: one secret under two schemes', () => {
  /** A client with `provider` whose policy allows everything but `deny`. */
  function guarded(provider: SecretProvider, deny: string) {
    return createSecrets({
      environment: 'dev',
      providers: [provider],
      cache: false,
      strictEnvironment: false,
      audit: false,
      policy: { version: 1, rules: [{ name: 'r', identity: '*', allow: ['*://**'], deny: [deny] }] },
    });
  }

  it('fromEnv: secret:// and env:// spellings of one variable are denied together (with a prefix too)', async () => {
    const env = { ETL_ORDERS_DB_ADMIN: generated(), ETL_OTHER: generated() };
    const cases: [string, string[]][] = [
      ['secret://orders-db/admin', ['env://ETL_ORDERS_DB_ADMIN', 'secret://orders_db/admin']],
      ['env://ETL_ORDERS_DB_ADMIN', ['secret://orders-db/admin', 'secret://Orders/DB.admin', 'env://etl_orders_db_admin']],
      ['secret://orders-db/*', ['env://ETL_ORDERS_DB_ADMIN']],
    ];
    for (const [deny, spellings] of cases) {
      const secrets = guarded(fromEnv({ env, prefix: 'ETL_' }), deny);
      for (const ref of spellings) expect({ deny, ref, got: await attempt(secrets, ref) }).toEqual({ deny, ref, got: { code: 'POLICY_DENIED' } });
      // The control: another variable is served.
      expect(await attempt(secrets, 'secret://other')).toEqual({ served: env.ETL_OTHER });
      await secrets.close();
    }
  });

  it('fromLocalStore: secret:// and local:// name one entry', async () => {
    const value = generated();
    const store = fromLocalStore({ name: 'local', path: join(dir, 'aliases.enc.json'), key: randomBytes(32), environment: 'dev' });
    await store.init();
    await store.set('orders-db/admin', value);
    await store.set('other', value);
    for (const [deny, ref] of [['local://orders-db/admin', 'secret://orders-db/admin'], ['secret://orders-db/admin', 'local://orders-db/admin']] as const) {
      const secrets = guarded(store, deny);
      expect(await attempt(secrets, ref)).toEqual({ code: 'POLICY_DENIED' });
      expect(await attempt(secrets, 'local://other')).toEqual({ served: value });
      await secrets.close();
    }
  });

  it('fromFile: secret://, file:// and file:///<root>/ name one file', async () => {
    const root = await mkdtemp(join(dir, 'root-'));
    await mkdir(join(root, 'orders-db'));
    await writeFile(join(root, 'orders-db', 'admin'), generated());
    const value = generated();
    await writeFile(join(root, 'other'), value);
    const spellings = ['secret://orders-db/admin', 'file://orders-db/admin', `file://${root}/orders-db/admin`];
    for (const deny of spellings) {
      const secrets = guarded(fromFile({ root, logical: true }), deny);
      for (const ref of spellings) expect({ deny, ref, got: await attempt(secrets, ref) }).toEqual({ deny, ref, got: { code: 'POLICY_DENIED' } });
      expect(await attempt(secrets, 'file://other')).toEqual({ served: value });
      await secrets.close();
    }
  });
});
