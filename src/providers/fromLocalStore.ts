import { realpath } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { ConfigError, EnvironmentMismatchError, InvalidSecretRefError, SecretFormatError, SecretNotFoundError, type ErrorOptions } from '../errors.js';
import type { ResolveContext, ResolvedSecret, SecretMetadata, SecretProvider } from '../provider.js';
import { parseRef } from '../ref/parseRef.js';
import { LOGICAL_SCHEME, type SecretRef } from '../ref/types.js';
import { hexEqual, mac, open, seal, type DerivedKeys } from './local-store/crypto.js';
import { codeOf, createFileExclusive, ensurePrivateDir, readPrivateFile, realTarget, writeFileAtomic, type FileStamp } from './local-store/file.js';
import { macInput, parseStore, serializeStore, type ParsedStore, type StoreDocument, type StoredEntry, type StoredVersion, type ValueEncoding } from './local-store/format.js';
import { DerivedKeyCache, ENV_KEY, ENV_KEY_FILE, ENV_PASSPHRASE, kdfNameOf, newKdf, selectKey, type SelectedKey } from './local-store/keys.js';
import { assertEntryName, assertEnvironmentTag, cleanMetadata, isEnvironmentTag } from './local-store/names.js';
import { DEFAULT_LOCK_TIMEOUT_MS, lockPathOf, withLock } from './local-store/lock.js';
import { SerialQueue } from './local-store/queue.js';
import { removeStaleTemps } from './local-store/temps.js';

export { StoreLockTimeoutError, type LockHolderInfo } from './local-store/lock.js';

/** The ref scheme the local store serves. */
const SCHEME = 'local';
/** Environment variable naming the store file. */
const ENV_STORE = 'CONNECTOR_SECRETS_STORE';
/** Environment variable holding the process's environment tag. */
const ENV_ENVIRONMENT = 'CONNECTOR_SECRETS_ENV';
/** Largest store file read, in bytes. */
const MAX_STORE_BYTES = 64 * 1024 * 1024;
/** Largest value stored, in bytes. */
const MAX_VALUE_BYTES = 1024 * 1024;
const VERSION_PARAM = /^[1-9][0-9]{0,14}$/;
/** Longest timer Node honours (larger delays fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Where the master key of a local store comes from: 32 key bytes, a key file, or a
 * passphrase (stretched with scrypt; the salt and cost are stored in the store file).
 *
 * @example
 * ```ts
 * await store.rotateKey({ keyFile: '/run/keys/orders-prod.key' });
 * await store.rotateKey({ key: crypto.randomBytes(32) });
 * await store.rotateKey({ passphrase: process.env.NEW_PASSPHRASE!, scrypt: { N: 2 ** 16 } });
 * ```
 */
export type LocalStoreKeySource =
  | {
      /** The 32-byte master key. */
      readonly key: Uint8Array;
    }
  | {
      /**
       * Path of a key file holding 32 raw bytes or their base64. It must not be accessible by
       * group or others (`chmod 600`).
       */
      readonly keyFile: string;
    }
  | {
      /** A passphrase; the master key is derived from it with scrypt. */
      readonly passphrase: string;
      /**
       * scrypt cost for the new salt.
       * @default { N: 32768, r: 8, p: 1 }
       */
      readonly scrypt?: {
        /** CPU/memory cost, a power of two from 2^14 to 2^20. */
        readonly N?: number;
        /** Block size, 1 to 32. */
        readonly r?: number;
        /** Parallelism, 1 to 16. */
        readonly p?: number;
      };
    };

/**
 * Options of {@link fromLocalStore}. The key is taken from the first of: `key`, `keyFile`,
 * `CONNECTOR_SECRETS_KEY`, `CONNECTOR_SECRETS_KEY_FILE` — or, for a store created with a
 * passphrase, from `passphrase` or `CONNECTOR_SECRETS_PASSPHRASE`.
 *
 * @example
 * ```ts
 * const store = fromLocalStore({ environment: 'prod', keyFile: '/run/keys/orders-prod.key' });
 * ```
 */
export interface FromLocalStoreInit {
  /**
   * The provider name shown in errors, `Secret.provider` and audit records.
   * @default 'local'
   */
  readonly name?: string;
  /**
   * The store file, relative to the working directory or absolute.
   * @default env `CONNECTOR_SECRETS_STORE`, else `.secrets/<environment>.enc.json`
   */
  readonly path?: string;
  /**
   * The environment the store is bound to. When set, it names the default store file, it is
   * the provider's `environment`, and a store file tagged with another environment is refused.
   * @default undefined: the client's environment (or `CONNECTOR_SECRETS_ENV`) names the file
   */
  readonly environment?: string;
  /**
   * The 32-byte master key.
   * @default undefined
   */
  readonly key?: Uint8Array;
  /**
   * A key file holding 32 raw bytes or their base64; it must be private (`chmod 600`).
   * @default env `CONNECTOR_SECRETS_KEY_FILE`
   */
  readonly keyFile?: string;
  /**
   * A passphrase the master key is derived from with scrypt.
   * @default env `CONNECTOR_SECRETS_PASSPHRASE`
   */
  readonly passphrase?: string;
  /**
   * scrypt cost for a store created from a passphrase (N a power of two from 2^14 to 2^20).
   * @default { N: 32768, r: 8, p: 1 }
   */
  readonly scrypt?: {
    /** CPU/memory cost, a power of two from 2^14 to 2^20. */
    readonly N?: number;
    /** Block size, 1 to 32. */
    readonly r?: number;
    /** Parallelism, 1 to 16. */
    readonly p?: number;
  };
  /**
   * Environment variables to read `CONNECTOR_SECRETS_*` settings from.
   * @default the resolve context's `env`; `process.env` for the write methods
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The clock for created/updated times, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * How long a write (`set`, `rotate`, `rotateKey`, `init`) waits for the store's cross-process
   * lock while another live process holds it, in milliseconds; then it fails with
   * {@link StoreLockTimeoutError} and writes nothing. 0 tries once. A lock whose holder died is
   * taken over without waiting for this.
   * @default 10_000
   * @example
   * ```ts
   * fromLocalStore({ environment: 'ci', lockTimeoutMs: 60_000 }); // many parallel CI jobs write one store
   * ```
   */
  readonly lockTimeoutMs?: number;
}

/**
 * What {@link LocalStore.list} and {@link LocalStore.set} report about an entry. It never
 * holds a value.
 *
 * @example
 * ```ts
 * for (const e of await store.list()) console.log(e.name, e.currentVersion, e.metadata.owner);
 * ```
 */
export interface LocalStoreEntryInfo {
  /** The entry name, e.g. `orders-db/password`. */
  readonly name: string;
  /** The entry's metadata, with `environment` set to the store file's environment tag. */
  readonly metadata: SecretMetadata;
  /** The version `resolve` returns when the ref has no `?version=`. */
  readonly currentVersion: number;
  /** Every stored version, oldest first. */
  readonly versions: readonly {
    /** The version number, from 1. */
    readonly version: number;
    /** When the version was written. */
    readonly createdAt: Date;
  }[];
  /** When the entry was created. */
  readonly createdAt: Date;
  /** When the entry last changed. */
  readonly updatedAt: Date;
}

/**
 * An embedded encrypted secret store: a {@link SecretProvider} for `local://` and logical
 * `secret://` refs, and the API that writes the store file.
 *
 * Every write (`rotate`, `init`, `set`, `rotateKey`) holds the store's cross-process lock
 * (`<store>.lock`) while it re-reads, changes and atomically replaces the file, so writers in
 * several processes lose no acknowledged write; a write that waits longer than `lockTimeoutMs`
 * fails with {@link StoreLockTimeoutError} and writes nothing. A symlinked store path is written
 * through to its target. Temp files left by writers that died are removed on open and by every
 * write. See `docs/local-store.md`.
 *
 * @example
 * ```ts
 * const store = fromLocalStore({ environment: 'dev' });
 * await store.init();
 * await store.set('orders-db/password', value, { owner: 'data-platform', sensitivity: 'high' });
 * const secrets = createSecrets({ environment: 'dev', providers: [store] });
 * const pw = await secrets.get('secret://orders-db/password');
 * ```
 */
export interface LocalStore extends SecretProvider {
  /** The provider name. */
  readonly name: string;
  /** `['local']`. */
  readonly schemes: readonly string[];
  /** `true`: `secret://orders-db/password` resolves the entry `orders-db/password`. */
  readonly logical: true;
  /**
   * Resolves the entry the ref's path names (`?version=N` selects a version, else the current
   * one). The value is a string, or a `Uint8Array` for binary entries; `metadata.environment`
   * is the store file's environment tag.
   *
   * @throws {@link SecretNotFoundError} when the store file, entry or version does not exist.
   * @throws {@link SecretFormatError} on a wrong key or a modified store file.
   * @throws {@link ConfigError} when no key is configured or the file is not private.
   * @throws {@link EnvironmentMismatchError} when the file's environment tag is not the
   * store's `environment`.
   */
  resolve(ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret>;
  /**
   * Adds a new version of an existing entry, keeping its metadata. `nameOrRef` is an entry
   * name (`orders-db/password`), a `local://` or `secret://` ref string, or a parsed ref.
   *
   * @throws {@link SecretNotFoundError} when the entry does not exist (use {@link LocalStore.set}).
   */
  rotate(nameOrRef: string | SecretRef, value: string | Uint8Array, ctx?: ResolveContext): Promise<ResolvedSecret>;
  /**
   * Creates an empty store file (mode 0600; its directory 0700 when created) tagged with the
   * environment, under the configured key.
   *
   * @throws {@link ConfigError} when the file exists or no key is configured.
   */
  init(options?: {
    /** The environment tag recorded in the file. Defaults to the store's `environment`, else `CONNECTOR_SECRETS_ENV`. */
    readonly environment?: string;
  }): Promise<{
    /** The absolute path of the created store file. */
    readonly path: string;
    /** The environment tag recorded in it. */
    readonly environment: string;
  }>;
  /**
   * Creates an entry, or adds a new version of it. Given metadata labels replace those of the
   * same name; others are kept.
   */
  set(name: string, value: string | Uint8Array, metadata?: SecretMetadata): Promise<LocalStoreEntryInfo>;
  /** Every entry with its metadata, versions and times, sorted by name; never a value. */
  list(): Promise<LocalStoreEntryInfo[]>;
  /**
   * Re-encrypts every version of every entry under a new key, in one atomic write. This store
   * object uses the new key from then on; other processes need the new key configured. Temp
   * files that writers killed mid-write left behind (full copies of the store under an older
   * key) are removed first.
   */
  rotateKey(newKey: LocalStoreKeySource): Promise<void>;
  /** The absolute path of the store file, as it is resolved for `ctx` (or the write methods). */
  resolvePath(ctx?: Partial<Pick<ResolveContext, 'env' | 'environment'>>): string;
  /** Drops the cached file and zero-fills cached keys. The store stays usable. */
  close(): Promise<void>;
}

interface Scope {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly environment: string | undefined;
}

interface Loaded {
  readonly path: string;
  readonly stamp: FileStamp;
  readonly parsed: ParsedStore;
  readonly keys: DerivedKeys;
}

/**
 * An embedded, file-based encrypted secret store: one file per environment, every value
 * sealed with AES-256-GCM and the whole file authenticated with HMAC-SHA256. See
 * `docs/local-store.md` for the file format and the `connector-secrets local` command.
 *
 * The store file is found lazily: `path`, else `CONNECTOR_SECRETS_STORE`, else
 * `.secrets/<environment>.enc.json` under the working directory.
 *
 * @example
 * ```ts
 * import { createSecrets, fromEnv, fromLocalStore } from 'connector-secrets';
 *
 * const secrets = createSecrets({
 *   environment: 'prod',
 *   providers: [fromEnv(), fromLocalStore({ path: '.secrets/prod.enc.json' })],
 * });
 * const pw = await secrets.get('local://orders-db/password?version=2');
 * ```
 */
export function fromLocalStore(init: FromLocalStoreInit = {}): LocalStore {
  const name = init.name ?? 'local';
  const now = init.now ?? Date.now;
  const lockTimeoutMs = init.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs < 0 || lockTimeoutMs > MAX_TIMER_MS) {
    throw new ConfigError(`fromLocalStore({ lockTimeoutMs }) must be an integer number of milliseconds from 0 to ${MAX_TIMER_MS}`, { provider: name });
  }
  if (init.environment !== undefined) assertEnvironmentTag(init.environment, 'fromLocalStore({ environment })');
  const keyOptions = { key: init.key, keyFile: init.keyFile, passphrase: init.passphrase, scrypt: init.scrypt };
  const keyCache = new DerivedKeyCache();
  const queue = new SerialQueue();
  let cached: Loaded | undefined;
  /** The key given to the last successful rotateKey, for the file it rotated. */
  let rotated: { readonly path: string; readonly key: SelectedKey } | undefined;
  /** Store paths this object has opened, and so cleaned up after dead writers. */
  const tidied = new Set<string>();

  function scopeOf(ctx?: Partial<Pick<ResolveContext, 'env' | 'environment'>>): Scope {
    const env = init.env ?? ctx?.env ?? process.env;
    const environment = init.environment ?? (ctx?.environment || undefined) ?? (env[ENV_ENVIRONMENT] || undefined);
    return { env, environment };
  }

  function pathOf(scope: Scope): string {
    const explicit = init.path ?? (scope.env[ENV_STORE] || undefined);
    if (explicit !== undefined) return resolvePath(explicit);
    if (scope.environment === undefined) {
      throw new ConfigError(
        `cannot locate the local store file: pass fromLocalStore({ path }) or set ${ENV_STORE}, or give an environment (option, client environment or ${ENV_ENVIRONMENT})`,
        { provider: name },
      );
    }
    if (!isEnvironmentTag(scope.environment)) {
      throw new ConfigError('the environment tag cannot name a store file: use letters, digits, ".", "_" or "-"', { provider: name });
    }
    return resolvePath('.secrets', `${scope.environment}.enc.json`);
  }

  function keyFor(scope: Scope, path: string, kdf: 'none' | 'scrypt' | undefined, options: ErrorOptions): SelectedKey {
    if (rotated !== undefined && rotated.path === path && (kdf === undefined || kdfNameOf(rotated.key.source) === kdf)) return rotated.key;
    const selected = selectKey(keyOptions, scope.env, kdf);
    if (selected !== undefined) return selected;
    if (kdf === 'scrypt') {
      throw new ConfigError(`store file ${path} is protected by a passphrase: set ${ENV_PASSPHRASE} or pass fromLocalStore({ passphrase })`, options);
    }
    throw new ConfigError(
      `no key for store file ${path}: set ${ENV_KEY} (32 bytes, base64) or ${ENV_KEY_FILE}, or pass fromLocalStore({ key | keyFile })` +
        (kdf === undefined ? ` or a passphrase (${ENV_PASSPHRASE})` : ''),
      options,
    );
  }

  /**
   * Reads, parses and authenticates the store file, reusing the last result while it is
   * unchanged. `fresh` (a write, holding the lock) names the real file to read, in full.
   */
  async function load(scope: Scope, missing: 'not-found' | 'config', options: ErrorOptions, fresh?: { readonly target: string }): Promise<Loaded> {
    const path = pathOf(scope);
    const previous = cached !== undefined && cached.path === path ? cached : undefined;
    const read = await readPrivateFile(fresh?.target ?? path, {
      what: 'store file',
      maxBytes: MAX_STORE_BYTES,
      ifChanged: fresh === undefined ? previous?.stamp : undefined,
      errorOptions: options,
    });
    if (read === undefined) {
      if (missing === 'not-found') throw new SecretNotFoundError(`store file ${path} does not exist`, options);
      throw noStoreFile(path, options);
    }
    if (fresh === undefined) await tidy(path);
    let parsed: ParsedStore;
    if (read.data !== undefined) parsed = parseStore(decodeText(read.data, path), path);
    else if (previous !== undefined) parsed = previous.parsed;
    else throw new Error('unreachable: an unchanged store file without a previous read');
    const selected = keyFor(scope, path, parsed.doc.kdf.name, options);
    const keys = await keyCache.get(selected.source, parsed.doc.kdf, options);
    let loaded: Loaded;
    if (previous !== undefined && previous.parsed === parsed && previous.keys === keys) loaded = previous;
    else {
      authenticate(parsed, keys, path, selected.origin, options);
      loaded = { path, stamp: read.stamp, parsed, keys };
      cached = loaded;
    }
    if (init.environment !== undefined && loaded.parsed.doc.environment !== init.environment) {
      throw new EnvironmentMismatchError(
        `store file ${path} is tagged for environment "${loaded.parsed.doc.environment}", but this store is bound to "${init.environment}"`,
        { ...options, environment: init.environment, targetEnvironment: loaded.parsed.doc.environment },
      );
    }
    return loaded;
  }

  /**
   * Once per store path, on first open: removes what writers that died left behind (temp
   * files, a lock file), under the lock so that no live writer's temp file is touched. Best
   * effort: when the lock is busy, its holder cleans up; a read-only directory holds nothing of ours.
   */
  async function tidy(path: string): Promise<void> {
    if (tidied.has(path)) return;
    tidied.add(path);
    try {
      // underLock cleans up before it runs the task; there is nothing else to do.
      await underLock(await realTarget(path), 0, async () => undefined);
    } catch {
      // A busy lock or a read-only directory must not fail a read; the next write cleans up.
    }
  }

  /**
   * Runs `task` holding the cross-process lock of the store file `target` (its real path: the
   * lock, the temp files and the rename all live beside a symlink's target, so writers through
   * the link and through the target share them), after removing stale temp files of dead writers.
   */
  async function underLock<T>(target: string, timeoutMs: number, task: (assertHeld: () => Promise<void>) => Promise<T>): Promise<T> {
    const lockPath = lockPathOf(target);
    return withLock(lockPath, { timeoutMs, errorOptions: { provider: name } }, async (lock) => {
      await removeStaleTemps(target);
      await removeStaleTemps(lockPath);
      return task(() => lock.assertHeld());
    });
  }

  /**
   * Runs a read-modify-write of the store file: one at a time in this object (the queue) and
   * across processes (the lock), always on the file as it is on disk under the lock.
   */
  function write<T>(scope: Scope, change: (loaded: Loaded) => Promise<{ doc: StoreDocument; keys: DerivedKeys; result: T }>): Promise<T> {
    return queue.run(async () => {
      const path = pathOf(scope);
      tidied.add(path);
      let target: string;
      try {
        target = await realpath(path);
      } catch (err) {
        if (codeOf(err) === 'ENOENT') throw noStoreFile(path, { provider: name });
        throw err;
      }
      return underLock(target, lockTimeoutMs, async (assertHeld) => {
        cached = undefined;
        const loaded = await load(scope, 'config', { provider: name }, { target });
        const { doc, keys, result } = await change(loaded);
        const text = serializeStore(doc, mac(keys, macInput(doc)));
        cached = undefined;
        await writeFileAtomic(target, text, assertHeld);
        return result;
      });
    });
  }

  function addVersion(doc: StoreDocument, keys: DerivedKeys, entryName: string, value: string | Uint8Array, metadata: Record<string, string> | undefined) {
    const at = new Date(now()).toISOString();
    const existing = doc.entries.get(entryName);
    const version = (existing?.versions.at(-1)?.version ?? 0) + 1;
    const encoding: ValueEncoding = typeof value === 'string' ? 'utf8' : 'bytes';
    const plaintext = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    let sealed: { nonce: Buffer; ciphertext: Buffer };
    try {
      sealed = seal(keys, { environment: doc.environment, name: entryName, version, encoding }, plaintext);
    } finally {
      plaintext.fill(0);
    }
    const stored: StoredVersion = {
      version,
      createdAt: at,
      encoding,
      nonce: sealed.nonce.toString('base64'),
      ciphertext: sealed.ciphertext.toString('base64'),
    };
    const entry: StoredEntry = {
      metadata: { ...existing?.metadata, ...metadata },
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      versions: [...(existing?.versions ?? []), stored],
    };
    const entries = new Map(doc.entries);
    entries.set(entryName, entry);
    return { doc: { ...doc, updatedAt: at, entries }, entry };
  }

  function decrypt(doc: StoreDocument, keys: DerivedKeys, entryName: string, stored: StoredVersion, path: string, options: ErrorOptions): string | Uint8Array {
    const plaintext = open(
      keys,
      { environment: doc.environment, name: entryName, version: stored.version, encoding: stored.encoding },
      Buffer.from(stored.nonce, 'base64'),
      Buffer.from(stored.ciphertext, 'base64'),
    );
    if (plaintext === undefined) {
      throw new SecretFormatError(
        `cannot decrypt entry "${entryName}" version ${stored.version} of store file ${path}: the ciphertext was moved from another entry, version or environment, or modified`,
        options,
      );
    }
    try {
      if (stored.encoding === 'bytes') return new Uint8Array(plaintext);
      try {
        return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plaintext);
      } catch {
        throw new SecretFormatError(`entry "${entryName}" version ${stored.version} of store file ${path} is not valid UTF-8`, options);
      }
    } finally {
      plaintext.fill(0);
    }
  }

  function entryInfo(doc: StoreDocument, entryName: string, entry: StoredEntry): LocalStoreEntryInfo {
    return {
      name: entryName,
      metadata: { ...entry.metadata, environment: doc.environment },
      currentVersion: entry.versions.at(-1)?.version ?? 0,
      versions: entry.versions.map((v) => ({ version: v.version, createdAt: new Date(v.createdAt) })),
      createdAt: new Date(entry.createdAt),
      updatedAt: new Date(entry.updatedAt),
    };
  }

  function rotateTarget(nameOrRef: string | SecretRef): string {
    const ref = typeof nameOrRef === 'string' ? (nameOrRef.includes('://') ? parseRef(nameOrRef) : undefined) : nameOrRef;
    if (ref === undefined) {
      assertEntryName(nameOrRef);
      return nameOrRef as string;
    }
    if (ref.scheme !== SCHEME && ref.scheme !== LOGICAL_SCHEME) {
      throw new InvalidSecretRefError(`the local store rotates local:// and secret:// refs, not ${ref.scheme}://`, { ref: String(ref), provider: name });
    }
    if (ref.params['version'] !== undefined) {
      throw new InvalidSecretRefError('rotate adds a new version: remove ?version= from the ref', { ref: String(ref), provider: name });
    }
    const entryName = ref.segments.join('/');
    assertEntryName(entryName);
    return entryName;
  }

  const store: LocalStore = {
    name,
    schemes: [SCHEME],
    logical: true,
    ...(init.environment === undefined ? {} : { environment: init.environment }),

    async resolve(ref, ctx) {
      ctx.signal?.throwIfAborted();
      const options = { ref: String(ref), provider: name };
      const entryName = ref.segments.join('/');
      assertEntryName(entryName);
      const wanted = ref.params['version'];
      if (wanted !== undefined && !VERSION_PARAM.test(wanted)) {
        throw new InvalidSecretRefError('local store versions are positive integers (?version=N)', options);
      }
      const loaded = await load(scopeOf(ctx), 'not-found', options);
      const { doc } = loaded.parsed;
      const entry = doc.entries.get(entryName);
      if (entry === undefined) throw new SecretNotFoundError(`no entry "${entryName}" in store file ${loaded.path}`, options);
      const stored = wanted === undefined ? entry.versions.at(-1) : entry.versions.find((v) => v.version === Number(wanted));
      if (stored === undefined) {
        throw new SecretNotFoundError(
          `entry "${entryName}" has no version ${wanted ?? ''} in store file ${loaded.path} (it has ${entry.versions.map((v) => v.version).join(', ')})`,
          options,
        );
      }
      const value = decrypt(doc, loaded.keys, entryName, stored, loaded.path, options);
      return { value, version: String(stored.version), metadata: { ...entry.metadata, environment: doc.environment } };
    },

    // From the store's plaintext bookkeeping: no version is decrypted.
    async describe(ref, ctx) {
      ctx.signal?.throwIfAborted();
      const options = { ref: String(ref), provider: name };
      const entryName = ref.segments.join('/');
      assertEntryName(entryName);
      const loaded = await load(scopeOf(ctx), 'not-found', options);
      const { doc } = loaded.parsed;
      const entry = doc.entries.get(entryName);
      if (entry === undefined) throw new SecretNotFoundError(`no entry "${entryName}" in store file ${loaded.path}`, options);
      const info = entryInfo(doc, entryName, entry);
      const latest = info.versions.at(-1);
      return {
        version: String(info.currentVersion),
        createdAt: info.createdAt,
        updatedAt: info.updatedAt,
        // Version 1 is the creation; every later version is a rotation.
        ...(latest !== undefined && latest.version > 1 ? { lastRotatedAt: latest.createdAt } : {}),
        metadata: info.metadata,
      };
    },

    async rotate(nameOrRef, value, ctx) {
      const entryName = rotateTarget(nameOrRef);
      checkValue(value);
      const scope = scopeOf(ctx);
      return write(scope, async ({ parsed, keys, path }) => {
        if (!parsed.doc.entries.has(entryName)) {
          throw new SecretNotFoundError(`no entry "${entryName}" in store file ${path}; create it with set()`, {
            ref: typeof nameOrRef === 'string' ? undefined : String(nameOrRef),
            provider: name,
          });
        }
        const { doc, entry } = addVersion(parsed.doc, keys, entryName, value, undefined);
        const version = entry.versions.at(-1)?.version ?? 0;
        const result: ResolvedSecret = { value, version: String(version), metadata: { ...entry.metadata, environment: doc.environment } };
        return { doc, keys, result };
      });
    },

    async init(options = {}) {
      const scope = scopeOf();
      if (options.environment !== undefined && init.environment !== undefined && options.environment !== init.environment) {
        throw new ConfigError(`cannot init a store for "${options.environment}": this store is bound to "${init.environment}"`, { provider: name });
      }
      const environment = options.environment ?? scope.environment;
      if (environment === undefined) {
        throw new ConfigError(`init needs an environment tag: init({ environment }) or ${ENV_ENVIRONMENT}`, { provider: name });
      }
      assertEnvironmentTag(environment, 'the environment');
      const path = pathOf({ env: scope.env, environment });
      return await queue.run(async () => {
        const errorOptions = { provider: name };
        const selected = keyFor(scope, path, undefined, errorOptions);
        const kdf = newKdf(selected.source);
        const keys = await keyCache.get(selected.source, kdf, errorOptions);
        const at = new Date(now()).toISOString();
        const doc: StoreDocument = { environment, kdf, keyId: keys.keyId, createdAt: at, updatedAt: at, entries: new Map() };
        await ensurePrivateDir(dirname(path));
        const text = serializeStore(doc, mac(keys, macInput(doc)));
        const created = await underLock(await realTarget(path), lockTimeoutMs, () => createFileExclusive(path, text));
        if (!created) throw new ConfigError(`store file ${path} already exists`, errorOptions);
        cached = undefined;
        tidied.add(path);
        return { path, environment };
      });
    },

    async set(entryName, value, metadata) {
      assertEntryName(entryName);
      checkValue(value);
      const labels = cleanMetadata(metadata);
      return write(scopeOf(), async ({ parsed, keys }) => {
        const { doc, entry } = addVersion(parsed.doc, keys, entryName, value, labels);
        return { doc, keys, result: entryInfo(doc, entryName, entry) };
      });
    },

    async list() {
      const { parsed } = await load(scopeOf(), 'config', { provider: name });
      const { doc } = parsed;
      return [...doc.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([entryName, entry]) => entryInfo(doc, entryName, entry));
    },

    async rotateKey(newKey) {
      if (typeof newKey !== 'object' || newKey === null || !('key' in newKey || 'keyFile' in newKey || 'passphrase' in newKey)) {
        throw new ConfigError('rotateKey needs { key }, { keyFile } or { passphrase }', { provider: name });
      }
      const scope = scopeOf();
      const path = pathOf(scope);
      await write(scope, async ({ parsed, keys }) => {
        const errorOptions = { provider: name };
        const kdf = newKdf(newKey);
        const nextKeys = await keyCache.get(newKey, kdf, errorOptions);
        if (nextKeys.keyId === keys.keyId) throw new ConfigError('the new key is the current key of the store', errorOptions);
        const at = new Date(now()).toISOString();
        const entries = new Map<string, StoredEntry>();
        for (const [entryName, entry] of parsed.doc.entries) {
          const versions = entry.versions.map((stored): StoredVersion => {
            const value = decrypt(parsed.doc, keys, entryName, stored, path, errorOptions);
            const plaintext = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
            try {
              const sealed = seal(nextKeys, { environment: parsed.doc.environment, name: entryName, version: stored.version, encoding: stored.encoding }, plaintext);
              return { ...stored, nonce: sealed.nonce.toString('base64'), ciphertext: sealed.ciphertext.toString('base64') };
            } finally {
              plaintext.fill(0);
            }
          });
          entries.set(entryName, { ...entry, versions });
        }
        const doc: StoreDocument = { ...parsed.doc, kdf, keyId: nextKeys.keyId, updatedAt: at, entries };
        return { doc, keys: nextKeys, result: undefined };
      });
      rotated = { path, key: { source: newKey, origin: 'the key given to rotateKey' } };
    },

    resolvePath(ctx) {
      return pathOf(scopeOf(ctx));
    },

    async close() {
      cached = undefined;
      keyCache.clear();
    },
  };
  return store;
}

/** Checks a value before it is written. Messages never include it. */
function checkValue(value: unknown): asserts value is string | Uint8Array {
  if (typeof value === 'string') {
    if (!value.isWellFormed()) throw new ConfigError('the value is not well-formed unicode (it has a lone surrogate)');
    if (value === '') throw new ConfigError('the value is empty');
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) throw new ConfigError(`the value is larger than ${MAX_VALUE_BYTES} bytes`);
    return;
  }
  if (!(value instanceof Uint8Array)) throw new ConfigError(`the value must be a string or a Uint8Array, got ${typeof value}`);
  if (value.length === 0) throw new ConfigError('the value is empty');
  if (value.length > MAX_VALUE_BYTES) throw new ConfigError(`the value is larger than ${MAX_VALUE_BYTES} bytes`);
}

function noStoreFile(path: string, options: ErrorOptions): ConfigError {
  return new ConfigError(`store file ${path} does not exist; create it with \`connector-secrets local init --env <tag>\` or store.init()`, options);
}

function decodeText(data: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new SecretFormatError(`store file ${path} is not UTF-8 text; the store file was modified or is corrupt`);
  }
}

/**
 * Checks the key id, then the MAC over the whole document.
 *
 * @throws {@link SecretFormatError} saying whether the key is wrong or the file was modified.
 */
function authenticate(parsed: ParsedStore, keys: DerivedKeys, path: string, origin: string, options: ErrorOptions): void {
  if (!hexEqual(parsed.doc.keyId, keys.keyId)) {
    throw new SecretFormatError(
      `cannot open store file ${path} with ${origin}: wrong key (it is not the key the store was written with), or the store file was modified`,
      options,
    );
  }
  if (!hexEqual(mac(keys, parsed.macInput), parsed.mac)) {
    throw new SecretFormatError(
      `store file ${path} failed its integrity check: the key is right, so the store file was modified or is corrupt`,
      options,
    );
  }
}
