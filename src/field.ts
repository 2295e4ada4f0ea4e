import { SecretFormatError } from './errors.js';
import type { CacheEntry } from './cache.js';

/**
 * Picks the `#field` dot path out of a JSON secret. Strings come back as they are; other JSON
 * values come back as JSON text. Errors name the path, never a value.
 */
export function selectField(entry: CacheEntry, fieldPath: readonly string[], ref: string): string {
  let node = parseJson(entry, ref);
  for (const [i, key] of fieldPath.entries()) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) {
      throw new SecretFormatError(`field "${fieldPath.slice(0, i + 1).join('.')}" is not in the secret`, {
        ref,
        provider: entry.provider,
        issues: [{ path: fieldPath.slice(0, i + 1).join('.'), code: 'missing_field' }],
      });
    }
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'string' ? node : JSON.stringify(node);
}

/** Parses a text secret as JSON once per cache entry. */
export function parseJson(entry: CacheEntry, ref: string): unknown {
  if (entry.json !== undefined) return entry.json;
  const { value } = entry.resolved;
  if (typeof value !== 'string') {
    throw new SecretFormatError('the secret is binary; it has no JSON fields', { ref, provider: entry.provider });
  }
  try {
    entry.json = JSON.parse(value);
  } catch {
    // The parser's message quotes the input, so it is not passed on as the cause.
    throw new SecretFormatError('the secret is not valid JSON', { ref, provider: entry.provider });
  }
  return entry.json;
}
