import type { SecretRef } from './types.js';

// Characters left as they are in the canonical form; everything else is percent-encoded.
// `@` is always encoded, so a canonical ref never looks like `user:password@host` (parseRef
// refuses a raw `@` anywhere).
const PATH_SAFE = /[A-Za-z0-9\-._~!$'()*+,;=:&]/;
const VALUE_SAFE = /[A-Za-z0-9\-._~!$'()*,;:/]/;
const FIELD_SAFE = /[A-Za-z0-9\-_~!$'()*+,;=:&]/;

/** The parts of a ref that its canonical form is made of. */
export type RefParts = Pick<SecretRef, 'scheme' | 'path' | 'segments' | 'params' | 'fieldPath'>;

/**
 * The canonical string of a ref: lowercase scheme, canonical upper-case percent-encoding,
 * params sorted by name. `formatRef(parseRef(s))` is the canonical form of `s`.
 *
 * @example
 * ```ts
 * formatRef(parseRef('vault://kv/a%20b?version=2&env=prod#pass')); // 'vault://kv/a%20b?env=prod&version=2#pass'
 * ```
 */
export function formatRef(ref: RefParts): string {
  let out = `${ref.scheme}://${ref.path.startsWith('/') ? '/' : ''}${ref.segments.map((s) => encode(s, PATH_SAFE)).join('/')}`;
  const names = Object.keys(ref.params).sort();
  if (names.length > 0) {
    out += '?' + names.map((n) => `${n}=${encode(ref.params[n]!, VALUE_SAFE)}`).join('&');
  }
  if (ref.fieldPath !== undefined) out += '#' + ref.fieldPath.map((f) => encode(f, FIELD_SAFE)).join('.');
  return out;
}

function encode(text: string, safe: RegExp): string {
  let out = '';
  for (const ch of text) {
    if (safe.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
