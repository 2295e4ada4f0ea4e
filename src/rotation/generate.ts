import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Letters and digits: safe in URLs, connection strings and shell arguments without quoting. */
export const DEFAULT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * How a rotation makes a new value.
 *
 * @example
 * ```ts
 * const spec: GenerateSpec = { length: 32, alphabet: 'abcdef0123456789' };
 * ```
 */
export interface GenerateSpec {
  /** How many characters (1 to 4096). */
  readonly length: number;
  /**
   * The characters to draw from (2 to 256 distinct ones).
   * @default letters and digits
   */
  readonly alphabet?: string;
}

/** Random bytes: `crypto.randomBytes` unless a test injects its own. */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * A random string of `length` characters of `alphabet`, each equally likely: bytes that would
 * bias the draw (those past the largest multiple of the alphabet's size) are thrown away.
 *
 * @throws {@link ConfigError} when the length or alphabet is out of range (without echoing either).
 * @example
 * ```ts
 * const password = generateSecretValue({ length: 32 });
 * ```
 */
export function generateSecretValue(spec: GenerateSpec, random: RandomBytes = randomBytes): string {
  const { length } = spec;
  if (!Number.isInteger(length) || length < 1 || length > 4096) throw new ConfigError('generate.length must be an integer from 1 to 4096');
  const chars = [...new Set(spec.alphabet ?? DEFAULT_ALPHABET)];
  if (chars.length < 2 || chars.length > 256) throw new ConfigError('generate.alphabet must hold 2 to 256 distinct characters');
  const limit = 256 - (256 % chars.length);
  let out = '';
  while (out.length < length) {
    const bytes = random(length * 2);
    if (bytes.length === 0) throw new ConfigError('the random source returned no bytes');
    for (const b of bytes) {
      if (b >= limit) continue;
      out += chars[b % chars.length];
      if (out.length === length) break;
    }
  }
  return out;
}
