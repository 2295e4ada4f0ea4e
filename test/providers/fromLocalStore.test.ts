import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, EnvironmentMismatchError, InvalidSecretRefError, SecretFormatError, SecretNotFoundError } from '../../src/errors.js';
import type { ResolveContext, SecretProvider } from '../../src/provider.js';
import { fromLocalStore, type FromLocalStoreInit } from '../../src/providers/fromLocalStore.js';
import { deriveKeys, mac } from '../../src/providers/local-store/crypto.js';
import { macInput, parseStore, serializeStore, type StoreDocument, type StoredEntry } from '../../src/providers/local-store/format.js';
import { parseRef } from '../../src/ref/parseRef.js';

const posix = process.platform !== 'win32';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-local-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A random test value (never a literal credential). */
function freshValue(): string {
  return randomBytes(24).toString('base64url');
}

function ctx(env: Record<string, string | undefined> = {}, environment = 'dev'): ResolveContext {
  return { signal: new AbortController().signal, env, environment, identity: undefined, now: Date.now };
}

async function newStore(options: FromLocalStoreInit = {}) {
  const key = randomBytes(32);
  const path = join(dir, 'dev.enc.json');
  const store = fromLocalStore({ path, key, environment: 'dev', ...options });
  await store.init();
  return { store, key, path };
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Rewrites the store file with a correct MAC, as only a key holder could. */
async function rewriteWithValidMac(path: string, key: Uint8Array, change: (doc: StoreDocument) => StoreDocument): Promise<void> {
  const parsed = parseStore(await readFile(path, 'utf8'), path);
  const doc = change(parsed.doc);
  const keys = deriveKeys(key);
  await writeFile(path, serializeStore(doc, mac(keys, macInput(doc))));
}

describe('fromLocalStore: provider shape', () => {
  it('serves local:// and logical refs under the name "local" by default', () => {
    const store = fromLocalStore({ environment: 'prod' });
    expect(store.name).toBe('local');
    expect(store.schemes).toEqual(['local']);
    expect(store.logical).toBe(true);
    expect(store.environment).toBe('prod');
    expect(fromLocalStore({ name: 'vault-fallback' }).name).toBe('vault-fallback');
    expect('environment' in fromLocalStore()).toBe(false);
  });

  it('locates the store file lazily: path option, CONNECTOR_SECRETS_STORE, then .secrets/<env>.enc.json', () => {
    expect(fromLocalStore().resolvePath({ env: {}, environment: 'qa' })).toBe(resolve('.secrets', 'qa.enc.json'));
    expect(fromLocalStore().resolvePath({ env: { CONNECTOR_SECRETS_ENV: 'stage' } })).toBe(resolve('.secrets', 'stage.enc.json'));
    expect(fromLocalStore({ environment: 'prod' }).resolvePath({ env: {}, environment: 'dev' })).toBe(resolve('.secrets', 'prod.enc.json'));
    expect(fromLocalStore().resolvePath({ env: { CONNECTOR_SECRETS_STORE: join(dir, 'x.json') } })).toBe(join(dir, 'x.json'));
    expect(fromLocalStore({ path: 'a/b.json' }).resolvePath({ env: { CONNECTOR_SECRETS_STORE: '/elsewhere' } })).toBe(resolve('a/b.json'));
    expect(() => fromLocalStore().resolvePath({ env: {} })).toThrow(ConfigError);
  });
});

describe('fromLocalStore: round trip', () => {
  it('stores and resolves a string through local:// and secret:// refs', async () => {
    const { store } = await newStore();
    const value = freshValue();
    const info = await store.set('orders-db/password', value, { owner: 'data-platform', purpose: 'read orders', sensitivity: 'critical', rotation: '30d' });
    expect(info.currentVersion).toBe(1);

    const direct = await store.resolve(parseRef('local://orders-db/password'), ctx());
    expect(direct.value).toBe(value);
    expect(direct.version).toBe('1');
    expect(direct.metadata).toEqual({ owner: 'data-platform', purpose: 'read orders', sensitivity: 'critical', rotation: '30d', environment: 'dev' });

    const logical = await store.resolve(parseRef('secret://orders-db/password'), ctx());
    expect(logical.value).toBe(value);
  });

  it('stores binary values and returns them as Uint8Array', async () => {
    const { store } = await newStore();
    const bytes = new Uint8Array(randomBytes(48));
    await store.set('tls/key', bytes);
    const out = await store.resolve(parseRef('local://tls/key'), ctx());
    expect(out.value).toBeInstanceOf(Uint8Array);
    expect(typeof out.value).not.toBe('string');
    expect(Buffer.from(out.value as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it('reads the key and store path from the resolve context env', async () => {
    const key = randomBytes(32);
    const path = join(dir, 'ci.enc.json');
    const env = { CONNECTOR_SECRETS_KEY: key.toString('base64'), CONNECTOR_SECRETS_STORE: path };
    const writer = fromLocalStore({ env, environment: 'ci' });
    await writer.init();
    const value = freshValue();
    await writer.set('api/token', value);

    const reader = fromLocalStore();
    const out = await reader.resolve(parseRef('secret://api/token'), ctx(env, 'ci'));
    expect(out.value).toBe(value);
    expect(out.metadata?.environment).toBe('ci');
  });

  it('says NOT_FOUND for a missing store file, entry or version', async () => {
    const missingFile = await caught(fromLocalStore({ path: join(dir, 'none.json'), key: randomBytes(32) }).resolve(parseRef('local://a'), ctx()));
    expect(missingFile).toBeInstanceOf(SecretNotFoundError);

    const { store } = await newStore();
    await store.set('a', freshValue());
    const missingEntry = await caught(store.resolve(parseRef('local://b'), ctx()));
    expect(missingEntry).toBeInstanceOf(SecretNotFoundError);
    expect(missingEntry).toMatchObject({ code: 'SECRET_NOT_FOUND', provider: 'local', ref: 'local://b' });

    const missingVersion = await caught(store.resolve(parseRef('local://a?version=7'), ctx()));
    expect(missingVersion).toMatchObject({ code: 'SECRET_NOT_FOUND', provider: 'local', ref: 'local://a?version=7' });

    await expect(store.resolve(parseRef('local://a?version=latest'), ctx())).rejects.toBeInstanceOf(InvalidSecretRefError);
  });
});

describe('fromLocalStore: versions', () => {
  it('keeps every version for rollback with ?version=N', async () => {
    const { store } = await newStore();
    const values = [freshValue(), freshValue(), freshValue()];
    await store.set('orders-db/password', values[0]!, { owner: 'data-platform' });
    await store.set('orders-db/password', values[1]!);
    const rotated = await store.rotate('orders-db/password', values[2]!);
    expect(rotated).toMatchObject({ value: values[2], version: '3', metadata: { owner: 'data-platform', environment: 'dev' } });

    expect((await store.resolve(parseRef('local://orders-db/password'), ctx())).value).toBe(values[2]);
    for (const [i, value] of values.entries()) {
      const out = await store.resolve(parseRef(`local://orders-db/password?version=${i + 1}`), ctx());
      expect(out).toMatchObject({ value, version: String(i + 1) });
    }
    const [listed] = await store.list();
    expect(listed?.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(listed?.currentVersion).toBe(3);
  });

  it('merges metadata on set and keeps it on rotate', async () => {
    const { store } = await newStore();
    await store.set('a', freshValue(), { owner: 'team-a', purpose: 'first' });
    await store.set('a', freshValue(), { purpose: 'second', sensitivity: 'high' });
    await store.rotate('a', freshValue());
    const out = await store.resolve(parseRef('local://a'), ctx());
    expect(out.metadata).toEqual({ owner: 'team-a', purpose: 'second', sensitivity: 'high', environment: 'dev' });
  });

  it('rotates through the SecretProvider signature, by parsed ref or ref string', async () => {
    const { store } = await newStore();
    await store.set('svc/token', freshValue());
    const provider: SecretProvider = store;
    const value = freshValue();
    const out = await provider.rotate!(parseRef('secret://svc/token'), value, ctx());
    expect(out.version).toBe('2');
    const next = freshValue();
    expect((await store.rotate('local://svc/token', next)).version).toBe('3');
    expect((await store.resolve(parseRef('local://svc/token'), ctx())).value).toBe(next);
    expect((await store.resolve(parseRef('local://svc/token?version=2'), ctx())).value).toBe(value);

    await expect(store.rotate('svc/missing', freshValue())).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(store.rotate('local://svc/token?version=1', freshValue())).rejects.toBeInstanceOf(InvalidSecretRefError);
    await expect(store.rotate('vault://svc/token', freshValue())).rejects.toBeInstanceOf(InvalidSecretRefError);
  });

  it('validates entry names like ref path segments', async () => {
    const { store } = await newStore();
    for (const bad of ['', 'a//b', '../x', 'a/./b', 'a/..', 'a\u0000b', 'line\nbreak', '/abs', 'trailing/']) {
      await expect(store.set(bad, freshValue()), JSON.stringify(bad)).rejects.toBeInstanceOf(InvalidSecretRefError);
    }
    await expect(store.set('ok/name-1.x', freshValue())).resolves.toMatchObject({ name: 'ok/name-1.x' });
    await expect(store.set('x', freshValue(), { environment: 'prod' })).rejects.toBeInstanceOf(ConfigError);
    await expect(store.set('x', freshValue(), { sensitivity: 'extreme' as 'high' })).rejects.toBeInstanceOf(ConfigError);
    await expect(store.set('x', '')).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('fromLocalStore: integrity', () => {
  it('binds a ciphertext to its entry name (AAD): moved between entries it fails to decrypt', async () => {
    const { store, key, path } = await newStore();
    const a = freshValue();
    await store.set('a', a);
    await store.set('b', freshValue());
    await rewriteWithValidMac(path, key, (doc) => {
      const entries = new Map(doc.entries);
      const b = entries.get('b')!;
      entries.set('b', { ...b, versions: [{ ...b.versions[0]!, nonce: doc.entries.get('a')!.versions[0]!.nonce, ciphertext: doc.entries.get('a')!.versions[0]!.ciphertext }] });
      return { ...doc, entries };
    });
    const reader = fromLocalStore({ path, key });
    const err = await caught(reader.resolve(parseRef('local://b'), ctx()));
    expect(err).toBeInstanceOf(SecretFormatError);
    expect(err.message).toMatch(/cannot decrypt entry "b" version 1/);
    expect(err.message).not.toContain(a);
    // The untouched entry still resolves, so the failure is the binding, not the MAC.
    expect((await reader.resolve(parseRef('local://a'), ctx())).value).toBe(a);
  });

  it('binds a ciphertext to its version: swapped versions fail to decrypt', async () => {
    const { store, key, path } = await newStore();
    await store.set('a', freshValue());
    await store.set('a', freshValue());
    await rewriteWithValidMac(path, key, (doc) => {
      const entry = doc.entries.get('a')!;
      const [v1, v2] = entry.versions;
      const swapped: StoredEntry = { ...entry, versions: [{ ...v1!, nonce: v2!.nonce, ciphertext: v2!.ciphertext }, { ...v2!, nonce: v1!.nonce, ciphertext: v1!.ciphertext }] };
      return { ...doc, entries: new Map([['a', swapped]]) };
    });
    await expect(fromLocalStore({ path, key }).resolve(parseRef('local://a?version=1'), ctx())).rejects.toBeInstanceOf(SecretFormatError);
    await expect(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx())).rejects.toBeInstanceOf(SecretFormatError);
  });

  it('binds a ciphertext to the environment: a retagged store fails to decrypt', async () => {
    const { store, key, path } = await newStore();
    await store.set('a', freshValue());
    await rewriteWithValidMac(path, key, (doc) => ({ ...doc, environment: 'prod' }));
    const err = await caught(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx({}, 'prod')));
    expect(err).toBeInstanceOf(SecretFormatError);
    expect(err.message).toMatch(/moved from another entry, version or environment/);
  });

  it('refuses a store file tagged for another environment than the one it is bound to', async () => {
    const { store, key, path } = await newStore();
    await store.set('a', freshValue());
    const err = await caught(fromLocalStore({ path, key, environment: 'prod' }).resolve(parseRef('local://a'), ctx({}, 'prod')));
    expect(err).toBeInstanceOf(EnvironmentMismatchError);
    expect(err).toMatchObject({ code: 'ENVIRONMENT_MISMATCH', environment: 'prod', targetEnvironment: 'dev', provider: 'local' });
    expect(err.message).toMatch(/tagged for environment "dev".*bound to "prod"/);
  });

  it('reports a wrong key as such, without any value in the message', async () => {
    const { store, path } = await newStore();
    const value = freshValue();
    await store.set('a', value);
    const err = await caught(fromLocalStore({ path, key: randomBytes(32) }).resolve(parseRef('local://a'), ctx()));
    expect(err).toBeInstanceOf(SecretFormatError);
    expect(err.message).toMatch(/wrong key/);
    expect(err.message).toContain(path);
    expect(err.message).not.toContain(value);
  });

  it('detects any flipped byte anywhere in the file', { timeout: 60_000 }, async () => {
    const { store, key, path } = await newStore();
    const values = [freshValue(), freshValue()];
    await store.set('orders-db/password', values[0]!, { owner: 'data-platform' });
    await store.set('orders-db/password', values[1]!);
    const original = await readFile(path);
    const keyText = key.toString('base64');
    let checked = 0;
    for (let i = 0; i < original.length; i++) {
      // One flipped bit per byte, cycling through all eight bit positions along the file.
      const mask = 1 << i % 8;
      const flipped = Buffer.from(original);
      flipped[i] = flipped[i]! ^ mask;
      await writeFile(path, flipped);
      const err = await caught(fromLocalStore({ path, key }).resolve(parseRef('local://orders-db/password?version=1'), ctx()));
      if (!(err instanceof SecretFormatError)) throw new Error(`byte ${i} ^ ${mask} was not detected: ${err.name} ${err.message}`);
      for (const secret of [...values, keyText]) if (err.message.includes(secret)) throw new Error(`byte ${i}: the message leaks a secret`);
      checked++;
    }
    expect(checked).toBe(original.length);
    await writeFile(path, original);
    expect((await fromLocalStore({ path, key }).resolve(parseRef('local://orders-db/password?version=1'), ctx())).value).toBe(values[0]);
  });

  it('detects truncation, appended bytes and reformatting', async () => {
    const { store, key, path } = await newStore();
    await store.set('a', freshValue());
    const text = await readFile(path, 'utf8');
    const variants = [
      text.slice(0, -1),
      text.slice(0, text.length / 2),
      text + ' ',
      text + '\n',
      JSON.stringify(JSON.parse(text)),
      JSON.stringify(JSON.parse(text), null, 4) + '\n',
      '',
    ];
    for (const variant of variants) {
      await writeFile(path, variant);
      await expect(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx())).rejects.toBeInstanceOf(SecretFormatError);
    }
  });

  it('refuses out-of-bounds scrypt parameters before deriving anything', async () => {
    const path = join(dir, 'p.enc.json');
    const passphrase = freshValue();
    const store = fromLocalStore({ path, passphrase, scrypt: { N: 2 ** 14 }, environment: 'dev' });
    await store.init();
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"N": 16384', `"N": ${2 ** 30}`));
    const started = Date.now();
    const err = await caught(fromLocalStore({ path, passphrase }).resolve(parseRef('local://a'), ctx()));
    expect(err).toBeInstanceOf(SecretFormatError);
    expect(err.message).toMatch(/scrypt parameters out of bounds/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('fromLocalStore: files', () => {
  it.runIf(posix)('creates the store file 0600 and a new directory 0700', async () => {
    const path = join(dir, 'nested', 'deeper', 'dev.enc.json');
    await fromLocalStore({ path, key: randomBytes(32), environment: 'dev' }).init();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested', 'deeper'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
  });

  it('refuses to init over an existing store', async () => {
    const { path } = await newStore();
    const before = await readFile(path, 'utf8');
    const err = await caught(fromLocalStore({ path, key: randomBytes(32), environment: 'dev' }).init());
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/already exists/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it.runIf(posix)('refuses a store file readable by group or others, saying chmod 600', async () => {
    const { store, key, path } = await newStore();
    await store.set('a', freshValue());
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      await chmod(path, mode);
      const err = await caught(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx()));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', provider: 'local' });
      expect(err.message).toContain(`chmod 600 ${path}`);
    }
    await chmod(path, 0o600);
    await expect(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx())).resolves.toMatchObject({ version: '1' });
  });

  it('writes atomically: concurrent writes are serialised and leave no temp files', async () => {
    const { store, key, path } = await newStore();
    const values = Array.from({ length: 25 }, () => freshValue());
    const infos = await Promise.all(values.map((v) => store.set('busy', v)));
    expect(infos.map((i) => i.currentVersion).sort((a, b) => a - b)).toEqual(values.map((_, i) => i + 1));
    expect(await readdir(dir)).toEqual(['dev.enc.json']);
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600);
    const reader = fromLocalStore({ path, key });
    // set() calls ran in call order, so version i + 1 holds values[i].
    for (const [i, value] of values.entries()) {
      expect((await reader.resolve(parseRef(`local://busy?version=${i + 1}`), ctx())).value).toBe(value);
    }
  });

  it('sees changes made by another writer (re-reads a changed file)', async () => {
    const { store, key, path } = await newStore();
    const reader = fromLocalStore({ path, key });
    await store.set('a', freshValue());
    expect((await reader.resolve(parseRef('local://a'), ctx())).version).toBe('1');
    const next = freshValue();
    await store.set('a', next);
    const out = await reader.resolve(parseRef('local://a'), ctx());
    expect(out).toMatchObject({ value: next, version: '2' });
  });

  it('reads a key file holding base64 or 32 raw bytes, and refuses one others can read', async () => {
    const key = randomBytes(32);
    const base64File = join(dir, 'b64.key');
    const rawFile = join(dir, 'raw.key');
    await writeFile(base64File, key.toString('base64') + '\n', { mode: 0o600 });
    await writeFile(rawFile, key, { mode: 0o600 });
    const path = join(dir, 'dev.enc.json');
    await fromLocalStore({ path, keyFile: base64File, environment: 'dev' }).init();
    const value = freshValue();
    await fromLocalStore({ path, keyFile: rawFile, environment: 'dev' }).set('a', value);
    expect((await fromLocalStore({ path, keyFile: base64File }).resolve(parseRef('local://a'), ctx())).value).toBe(value);
    expect((await fromLocalStore({ path }).resolve(parseRef('local://a'), ctx({ CONNECTOR_SECRETS_KEY_FILE: rawFile }))).value).toBe(value);

    if (posix) {
      await chmod(base64File, 0o644);
      const err = await caught(fromLocalStore({ path, keyFile: base64File }).resolve(parseRef('local://a'), ctx()));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(`chmod 600 ${base64File}`);
    }
    const garbage = join(dir, 'garbage.key');
    const garbageText = randomBytes(20).toString('hex');
    await writeFile(garbage, garbageText, { mode: 0o600 });
    const bad = await caught(fromLocalStore({ path, keyFile: garbage }).resolve(parseRef('local://a'), ctx()));
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.message).not.toContain(garbageText);
  });

  it('rejects a malformed CONNECTOR_SECRETS_KEY without echoing it, and says when no key is set', async () => {
    const { path } = await newStore();
    const notAKey = freshValue();
    const err = await caught(fromLocalStore({ path }).resolve(parseRef('local://a'), ctx({ CONNECTOR_SECRETS_KEY: notAKey })));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/CONNECTOR_SECRETS_KEY/);
    expect(err.message).not.toContain(notAKey);

    const none = await caught(fromLocalStore({ path }).resolve(parseRef('local://a'), ctx({})));
    expect(none).toBeInstanceOf(ConfigError);
    expect(none.message).toMatch(/no key for store file/);
  });
});

describe('fromLocalStore: passphrase', () => {
  it('derives the key with scrypt, stores salt and cost, and tells a wrong passphrase apart', async () => {
    const path = join(dir, 'dev.enc.json');
    const passphrase = freshValue();
    const store = fromLocalStore({ path, passphrase, scrypt: { N: 2 ** 14 }, environment: 'dev' });
    await store.init();
    const value = freshValue();
    await store.set('a', value);

    const doc = JSON.parse(await readFile(path, 'utf8')) as { kdf: { name: string; salt: string; N: number; r: number; p: number } };
    expect(doc.kdf).toMatchObject({ name: 'scrypt', N: 2 ** 14, r: 8, p: 1 });
    expect(Buffer.from(doc.kdf.salt, 'base64').length).toBe(16);

    const reader = fromLocalStore({ path });
    expect((await reader.resolve(parseRef('local://a'), ctx({ CONNECTOR_SECRETS_PASSPHRASE: passphrase }))).value).toBe(value);

    const wrong = await caught(reader.resolve(parseRef('local://a'), ctx({ CONNECTOR_SECRETS_PASSPHRASE: freshValue() })));
    expect(wrong).toBeInstanceOf(SecretFormatError);
    expect(wrong.message).toMatch(/wrong key/);
    expect(wrong.message).not.toContain(passphrase);

    const rawKey = await caught(fromLocalStore({ path, key: randomBytes(32) }).resolve(parseRef('local://a'), ctx()));
    expect(rawKey).toBeInstanceOf(ConfigError);
    expect(rawKey.message).toMatch(/passphrase/);
  });

  it('runs scrypt once per passphrase and salt, not per resolve', async () => {
    const path = join(dir, 'dev.enc.json');
    const passphrase = freshValue();
    const store = fromLocalStore({ path, passphrase, scrypt: { N: 2 ** 16 }, environment: 'dev' });
    await store.init();
    await store.set('a', freshValue());
    const reader = fromLocalStore({ path, passphrase });
    const t0 = performance.now();
    await reader.resolve(parseRef('local://a'), ctx());
    const first = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 20; i++) await reader.resolve(parseRef('local://a'), ctx());
    const twenty = performance.now() - t1;
    // scrypt with N = 2^16 costs far more than 20 cached resolves together.
    expect(twenty).toBeLessThan(first);
  });
});

describe('fromLocalStore: rotateKey', () => {
  it('re-encrypts every version under a new key in one atomic write', async () => {
    const { store, key, path } = await newStore();
    const values = [freshValue(), freshValue(), freshValue()];
    await store.set('a', values[0]!, { owner: 'team-a' });
    await store.set('a', values[1]!);
    await store.set('b', new Uint8Array(Buffer.from(values[2]!)));
    const before = await readFile(path, 'utf8');

    const newKey = randomBytes(32);
    await store.rotateKey({ key: newKey });
    expect(await readdir(dir)).toEqual(['dev.enc.json']);
    const after = await readFile(path, 'utf8');
    expect(after).not.toBe(before);

    const old = await caught(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx()));
    expect(old).toBeInstanceOf(SecretFormatError);
    expect(old.message).toMatch(/wrong key/);

    const reader = fromLocalStore({ path, key: newKey });
    expect((await reader.resolve(parseRef('local://a?version=1'), ctx())).value).toBe(values[0]);
    expect((await reader.resolve(parseRef('local://a'), ctx()))).toMatchObject({ value: values[1], version: '2', metadata: { owner: 'team-a' } });
    expect(Buffer.from((await reader.resolve(parseRef('local://b'), ctx())).value as Uint8Array).toString()).toBe(values[2]);

    // The store object that rotated keeps working with the new key.
    const next = freshValue();
    await store.set('a', next);
    expect((await reader.resolve(parseRef('local://a'), ctx())).value).toBe(next);
  });

  it('rotates from a raw key to a passphrase, and refuses the current key', async () => {
    const { store, key, path } = await newStore();
    const value = freshValue();
    await store.set('a', value);
    await expect(store.rotateKey({ key })).rejects.toBeInstanceOf(ConfigError);
    const passphrase = freshValue();
    await store.rotateKey({ passphrase, scrypt: { N: 2 ** 14 } });
    expect((await fromLocalStore({ path, passphrase }).resolve(parseRef('local://a'), ctx())).value).toBe(value);
    await expect(fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx())).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('fromLocalStore: list', () => {
  it('lists names, metadata, versions and times, never values', async () => {
    let clock = Date.parse('2025-03-01T10:00:00.000Z');
    const { store } = await newStore({ now: () => clock });
    const values = [freshValue(), freshValue(), freshValue()];
    await store.set('zeta', values[0]!, { owner: 'team-z', sensitivity: 'low' });
    clock += 60_000;
    await store.set('alpha/one', values[1]!);
    clock += 60_000;
    await store.set('alpha/one', new Uint8Array(Buffer.from(values[2]!)));

    const list = await store.list();
    expect(list.map((e) => e.name)).toEqual(['alpha/one', 'zeta']);
    expect(list[0]).toMatchObject({ currentVersion: 2, metadata: { environment: 'dev' } });
    expect(list[0]?.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(list[0]?.createdAt.toISOString()).toBe('2025-03-01T10:01:00.000Z');
    expect(list[0]?.updatedAt.toISOString()).toBe('2025-03-01T10:02:00.000Z');
    expect(list[1]?.metadata).toEqual({ owner: 'team-z', sensitivity: 'low', environment: 'dev' });

    const text = JSON.stringify(list);
    for (const value of values) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
    for (const entry of list) expect(Object.keys(entry).sort()).toEqual(['createdAt', 'currentVersion', 'metadata', 'name', 'updatedAt', 'versions']);
  });
});
