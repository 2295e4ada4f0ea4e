/**
 * Where the store's master key comes from (explicit key, key file, `CONNECTOR_SECRETS_KEY`,
 * `CONNECTOR_SECRETS_KEY_FILE`, passphrase, `CONNECTOR_SECRETS_PASSPHRASE`), and a cache of
 * derived keys so that scrypt runs once per passphrase and salt.
 *
 * @internal
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { ConfigError, type ErrorOptions } from '../../errors.js';
import type { LocalStoreKeySource } from '../fromLocalStore.js';
import { DEFAULT_SCRYPT, KEY_BYTES, deriveKeys, passphraseKey, scryptParamsProblem, type DerivedKeys, type ScryptParams } from './crypto.js';
import { createFileInPlace, ensurePrivateDir, readPrivateFile } from './file.js';
import type { Kdf } from './format.js';

/** Environment variable holding the base64 master key. */
export const ENV_KEY = 'CONNECTOR_SECRETS_KEY';
/** Environment variable naming a key file. */
export const ENV_KEY_FILE = 'CONNECTOR_SECRETS_KEY_FILE';
/** Environment variable holding a passphrase. */
export const ENV_PASSPHRASE = 'CONNECTOR_SECRETS_PASSPHRASE';

const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43}=?)$/;
const MAX_KEY_FILE_BYTES = 1024;
const MAX_CACHED_KEYS = 8;

/** The key options of a store, as given to `fromLocalStore`. */
export interface KeyOptions {
  readonly key?: Uint8Array | undefined;
  readonly keyFile?: string | undefined;
  readonly passphrase?: string | undefined;
  readonly scrypt?: Partial<ScryptParams> | undefined;
}

/** A key source together with a human-readable description of where it came from. */
export interface SelectedKey {
  readonly source: LocalStoreKeySource;
  /** E.g. `the key option`, `CONNECTOR_SECRETS_KEY`, `key file /path`. Never the key. */
  readonly origin: string;
}

/**
 * Picks the key source for a store whose key derivation is `kdf` (`undefined` while creating a
 * store: a raw key wins over a passphrase). Explicit options win over environment variables.
 * Returns `undefined` when no suitable source is configured.
 */
export function selectKey(options: KeyOptions, env: Readonly<Record<string, string | undefined>>, kdf: Kdf['name'] | undefined): SelectedKey | undefined {
  if (kdf !== 'scrypt') {
    if (options.key !== undefined) return { source: { key: options.key }, origin: 'the key option' };
    if (options.keyFile !== undefined) return { source: { keyFile: options.keyFile }, origin: `key file ${options.keyFile}` };
    const fromEnv = env[ENV_KEY];
    if (fromEnv !== undefined && fromEnv !== '') return { source: { key: decodeKey(fromEnv, ENV_KEY) }, origin: ENV_KEY };
    const file = env[ENV_KEY_FILE];
    if (file !== undefined && file !== '') return { source: { keyFile: file }, origin: `key file ${file} (${ENV_KEY_FILE})` };
  }
  if (kdf !== 'none') {
    const scrypt = options.scrypt === undefined ? {} : { scrypt: options.scrypt };
    if (options.passphrase !== undefined) return { source: { passphrase: options.passphrase, ...scrypt }, origin: 'the passphrase option' };
    const fromEnv = env[ENV_PASSPHRASE];
    if (fromEnv !== undefined && fromEnv !== '') return { source: { passphrase: fromEnv, ...scrypt }, origin: ENV_PASSPHRASE };
  }
  return undefined;
}

/** The key derivation a source needs: `none` for keys and key files, `scrypt` for passphrases. */
export function kdfNameOf(source: LocalStoreKeySource): Kdf['name'] {
  return 'passphrase' in source ? 'scrypt' : 'none';
}

/**
 * A fresh key derivation record for a new store or a key rotation: a random salt and the
 * source's scrypt cost for passphrases.
 *
 * @throws {@link ConfigError} when the scrypt cost is out of bounds.
 */
export function newKdf(source: LocalStoreKeySource): Kdf {
  if (!('passphrase' in source)) return { name: 'none' };
  const params: ScryptParams = { ...DEFAULT_SCRYPT, ...source.scrypt };
  const problem = scryptParamsProblem(params);
  if (problem !== undefined) throw new ConfigError(`invalid scrypt option: ${problem}`);
  return { name: 'scrypt', salt: randomBytes(16).toString('base64'), N: params.N, r: params.r, p: params.p };
}

/**
 * Decodes a base64 (or base64url) 32-byte key. The message never includes the text.
 *
 * @throws {@link ConfigError}
 */
export function decodeKey(text: string, origin: string, options: ErrorOptions = {}): Buffer {
  const trimmed = text.trim();
  if (!BASE64_KEY.test(trimmed)) {
    throw new ConfigError(`${origin} must hold a ${KEY_BYTES}-byte key encoded in base64 (44 characters); it does not (its content is not shown)`, options);
  }
  return Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
}

/**
 * Reads a key file: exactly 32 raw bytes, or the base64 of 32 bytes (surrounding whitespace
 * ignored). The file must not be accessible by group or others.
 *
 * @throws {@link ConfigError} when it is missing, too open or malformed.
 */
export async function readKeyFile(path: string, options: ErrorOptions = {}): Promise<Buffer> {
  const read = await readPrivateFile(path, { what: 'key file', maxBytes: MAX_KEY_FILE_BYTES, errorOptions: options });
  if (read === undefined || read.data === undefined) throw new ConfigError(`key file ${path} does not exist`, options);
  const data = read.data;
  if (data.length === KEY_BYTES) return data;
  try {
    return decodeKey(data.toString('utf8'), `key file ${path}`, options);
  } finally {
    data.fill(0);
  }
}

/**
 * Writes a fresh random 32-byte key, base64-encoded, to a new file with mode 0600 (creating its
 * directory with mode 0700). Returns false, writing nothing, when the file already exists. The
 * file is written in place, never through a temp file, so no copy of the key can be orphaned.
 */
export async function generateKeyFile(path: string): Promise<boolean> {
  await ensurePrivateDir(dirname(path));
  const key = randomBytes(KEY_BYTES);
  const text = Buffer.from(key.toString('base64') + '\n', 'utf8');
  try {
    return await createFileInPlace(path, text);
  } finally {
    key.fill(0);
    text.fill(0);
  }
}

/**
 * Derived keys by key material and key derivation parameters, so that scrypt runs once per
 * passphrase and salt. Concurrent callers share one derivation.
 */
export class DerivedKeyCache {
  readonly #entries = new Map<string, Promise<DerivedKeys>>();

  /** The keys for `source` under `kdf`. */
  async get(source: LocalStoreKeySource, kdf: Kdf, options: ErrorOptions = {}): Promise<DerivedKeys> {
    if ('passphrase' in source) {
      if (kdf.name !== 'scrypt') throw new ConfigError('a passphrase cannot open a store created with a raw key', options);
      if (typeof source.passphrase !== 'string' || source.passphrase === '') throw new ConfigError('the passphrase is empty', options);
      const id = digest(['scrypt', kdf.salt, String(kdf.N), String(kdf.r), String(kdf.p), source.passphrase]);
      return this.#remember(id, async () => {
        const master = await passphraseKey(source.passphrase, Buffer.from(kdf.salt, 'base64'), kdf);
        try {
          return deriveKeys(master);
        } finally {
          master.fill(0);
        }
      });
    }
    if (kdf.name !== 'none') throw new ConfigError('a raw key cannot open a store protected by a passphrase', options);
    let master: Buffer;
    if ('keyFile' in source) master = await readKeyFile(source.keyFile, options);
    else {
      if (!(source.key instanceof Uint8Array) || source.key.length !== KEY_BYTES) {
        throw new ConfigError(`the key must be a Uint8Array of ${KEY_BYTES} bytes`, options);
      }
      master = Buffer.from(source.key);
    }
    try {
      const id = digest(['raw', master.toString('base64')]);
      // #remember calls `derive` synchronously, so `master` is still intact when it runs.
      return await this.#remember(id, () => Promise.resolve(deriveKeys(master)));
    } finally {
      master.fill(0);
    }
  }

  /** Forgets every derived key and zero-fills those already derived. */
  clear(): void {
    for (const pending of this.#entries.values()) {
      pending.then(
        (keys) => {
          keys.encryption.fill(0);
          keys.mac.fill(0);
        },
        () => undefined,
      );
    }
    this.#entries.clear();
  }

  #remember(id: string, derive: () => Promise<DerivedKeys>): Promise<DerivedKeys> {
    const known = this.#entries.get(id);
    if (known !== undefined) {
      // Refresh recency.
      this.#entries.delete(id);
      this.#entries.set(id, known);
      return known;
    }
    const pending = derive();
    this.#entries.set(id, pending);
    pending.catch(() => this.#entries.delete(id));
    while (this.#entries.size > MAX_CACHED_KEYS) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return pending;
  }
}

function digest(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(Buffer.from(part, 'utf8')).update('\0');
  return hash.digest('hex');
}
