/**
 * The store's cryptography, all from node:crypto:
 *
 * - master key: 32 bytes, given directly or derived from a passphrase with scrypt;
 * - HKDF-SHA256 derives three independent keys from it (separate `info` strings): the
 *   AES-256-GCM encryption key, the HMAC-SHA256 file MAC key and a key id that tells a wrong
 *   key apart from a modified file;
 * - every entry version is sealed with AES-256-GCM under a fresh random 12-byte nonce, with
 *   additional data binding the environment, entry name, version and encoding.
 *
 * @internal
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** Length of the master key and of each derived key, in bytes. */
export const KEY_BYTES = 32;
/** AES-GCM nonce length, in bytes. */
export const NONCE_BYTES = 12;
/** AES-GCM tag length, in bytes; the tag is appended to the ciphertext. */
export const TAG_BYTES = 16;
/** Length of the key id, in bytes. */
export const KEY_ID_BYTES = 16;

const HKDF_SALT = Buffer.from('connector-secrets/local-store/v1', 'utf8');
const INFO_ENCRYPTION = Buffer.from('connector-secrets local-store v1 encryption key', 'utf8');
const INFO_MAC = Buffer.from('connector-secrets local-store v1 file mac key', 'utf8');
const INFO_KEY_ID = Buffer.from('connector-secrets local-store v1 key id', 'utf8');
const AAD_LABEL = 'connector-secrets/local-store/v1 entry';

/** scrypt cost parameters, as stored in the file. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** The default scrypt cost: N = 2^15, r = 8, p = 1 (about 32 MiB and 100 ms). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/**
 * Why scrypt parameters are out of bounds, or `undefined`. Bounds keep a modified file from
 * making the process spin or allocate gigabytes before its MAC can be checked.
 */
export function scryptParamsProblem(params: ScryptParams): string | undefined {
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || N < 2 ** 14 || N > 2 ** 20 || (N & (N - 1)) !== 0) return 'N must be a power of two from 2^14 to 2^20';
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) return 'r must be an integer from 1 to 32';
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) return 'p must be an integer from 1 to 16';
  if (128 * N * r * p > 1024 ** 3) return 'N * r * p needs more than 1 GiB of memory';
  return undefined;
}

/** The keys derived from one master key. */
export interface DerivedKeys {
  /** AES-256-GCM key. */
  readonly encryption: Buffer;
  /** HMAC-SHA256 key for the whole file. */
  readonly mac: Buffer;
  /** Lowercase hex id of the master key (one-way; tells a wrong key from a modified file). */
  readonly keyId: string;
}

/** Derives the encryption key, MAC key and key id from a 32-byte master key. */
export function deriveKeys(master: Uint8Array): DerivedKeys {
  if (master.length !== KEY_BYTES) throw new RangeError(`the master key must be ${KEY_BYTES} bytes`);
  const expand = (info: Buffer, length: number): Buffer => Buffer.from(hkdfSync('sha256', master, HKDF_SALT, info, length));
  return {
    encryption: expand(INFO_ENCRYPTION, KEY_BYTES),
    mac: expand(INFO_MAC, KEY_BYTES),
    keyId: expand(INFO_KEY_ID, KEY_ID_BYTES).toString('hex'),
  };
}

/** Derives a 32-byte master key from a passphrase (NFC-normalised) with scrypt. */
export function passphraseKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const { N, r, p } = params;
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 128 * N * r * p + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** What the AES-GCM additional data binds a ciphertext to. */
export interface SealContext {
  readonly environment: string;
  readonly name: string;
  readonly version: number;
  readonly encoding: string;
}

function aad(context: SealContext): Buffer {
  return Buffer.from(JSON.stringify([AAD_LABEL, context.environment, context.name, context.version, context.encoding]), 'utf8');
}

/** Encrypts `plaintext` under a fresh random nonce; the GCM tag is appended to the ciphertext. */
export function seal(keys: DerivedKeys, context: SealContext, plaintext: Uint8Array): { nonce: Buffer; ciphertext: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.encryption, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, ciphertext };
}

/**
 * Decrypts what {@link seal} produced, or returns `undefined` when authentication fails
 * (wrong key, or the ciphertext, nonce or any bound context changed).
 */
export function open(keys: DerivedKeys, context: SealContext, nonce: Uint8Array, ciphertext: Uint8Array): Buffer | undefined {
  if (nonce.length !== NONCE_BYTES || ciphertext.length < TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', keys.encryption, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(context));
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
  const body = decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    body.fill(0);
    return undefined;
  }
}

/** Lowercase hex HMAC-SHA256 of `text` under the MAC key. */
export function mac(keys: DerivedKeys, text: string): string {
  return createHmac('sha256', keys.mac).update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of two lowercase hex strings of equal, expected length. */
export function hexEqual(a: string, b: string): boolean {
  if (a.length !== b.length || !/^[0-9a-f]*$/.test(a) || !/^[0-9a-f]*$/.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
