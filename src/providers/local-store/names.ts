/**
 * Validation of what the store file holds besides ciphertext: entry names, environment tags
 * and metadata. Messages never echo a rejected name or label (it could be a pasted secret).
 *
 * @internal
 * @module
 */
import { ConfigError, InvalidSecretRefError } from '../../errors.js';
import type { SecretMetadata, Sensitivity } from '../../provider.js';

/** Longest entry name, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 512;
/** Longest metadata value, in UTF-16 code units. */
export const MAX_METADATA_VALUE_LENGTH = 1024;
/** Most metadata labels per entry. */
export const MAX_METADATA_KEYS = 32;

const ENVIRONMENT_TAG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const METADATA_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const SENSITIVITIES: readonly string[] = ['low', 'medium', 'high', 'critical'] satisfies readonly Sensitivity[];

/**
 * Why `name` is not a valid entry name, or `undefined` when it is. The rules are those of a
 * ref path: `/`-separated segments, none empty, none `.` or `..`, no control characters.
 */
export function entryNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string, got ${typeof name}`;
  if (name === '') return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`;
  if (!name.isWellFormed()) return 'is not well-formed unicode';
  if (hasControl(name)) return 'contains a control or NUL character';
  if (name.startsWith('/')) return 'starts with "/"';
  for (const segment of name.split('/')) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" path segment`;
  }
  return undefined;
}

/**
 * Throws {@link InvalidSecretRefError} unless `name` is a valid entry name.
 */
export function assertEntryName(name: unknown): asserts name is string {
  const problem = entryNameProblem(name);
  if (problem !== undefined) throw new InvalidSecretRefError(`invalid local store entry name: it ${problem}`);
}

/** True when `tag` is a valid environment tag (it is also used as a file name). */
export function isEnvironmentTag(tag: unknown): tag is string {
  return typeof tag === 'string' && ENVIRONMENT_TAG.test(tag);
}

/** Throws {@link ConfigError} unless `tag` is a valid environment tag. */
export function assertEnvironmentTag(tag: unknown, what: string): asserts tag is string {
  if (!isEnvironmentTag(tag)) {
    throw new ConfigError(`${what} must be an environment tag of 1-64 letters, digits, ".", "_" or "-" starting with a letter or digit`);
  }
}

/**
 * Why `metadata` is not valid store metadata, or `undefined` when it is. `environment` is
 * not allowed: the store file's environment tag supplies it.
 */
export function metadataProblem(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return 'must be an object';
  const keys = Object.keys(metadata);
  if (keys.length > MAX_METADATA_KEYS) return `has ${keys.length} labels; the limit is ${MAX_METADATA_KEYS}`;
  for (const key of keys) {
    if (!METADATA_KEY.test(key)) return 'has a label name that is not 1-64 letters, digits, "_", "." or "-" starting with a letter';
    if (key === 'environment') return 'may not set "environment": the store file\'s environment tag supplies it';
    const value = (metadata as Record<string, unknown>)[key];
    if (typeof value !== 'string') return `label "${key}" must be a string`;
    if (value.length > MAX_METADATA_VALUE_LENGTH) return `label "${key}" is longer than ${MAX_METADATA_VALUE_LENGTH} characters`;
    if (!value.isWellFormed() || hasControl(value)) return `label "${key}" contains a control character or is not well-formed unicode`;
    if (key === 'sensitivity' && !SENSITIVITIES.includes(value)) return `label "sensitivity" must be one of ${SENSITIVITIES.join(', ')}`;
  }
  return undefined;
}

/**
 * A copy of `metadata` without `undefined` labels, validated; throws {@link ConfigError}.
 */
export function cleanMetadata(metadata: SecretMetadata | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (metadata === undefined) return out;
  if (typeof metadata !== 'object' || metadata === null) throw new ConfigError('local store metadata must be an object');
  for (const [key, value] of Object.entries(metadata)) if (value !== undefined) out[key] = value;
  const problem = metadataProblem(out);
  if (problem !== undefined) throw new ConfigError(`invalid local store metadata: it ${problem}`);
  return out;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
