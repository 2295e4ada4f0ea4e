/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no duplicate keys, integers only.
 * The store's MAC is computed over the compact form, and the file on disk must be exactly
 * the indented form, so that no byte of the file can change without detection.
 *
 * @internal
 * @module
 */

/** A JSON value as the store writes it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * The canonical text of `value`: compact when `indent` is omitted, otherwise indented by
 * `indent` spaces per level.
 *
 * @throws TypeError for values JSON cannot represent canonically (non-integers, undefined).
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return write(value, indent === undefined ? undefined : ' '.repeat(indent), '');
}

function write(value: unknown, step: string | undefined, pad: string): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('canonical JSON holds safe integers only');
    return String(value);
  }
  const inner = step === undefined ? '' : pad + step;
  const open = step === undefined ? '' : '\n' + inner;
  const sep = step === undefined ? ',' : ',\n' + inner;
  const close = step === undefined ? '' : '\n' + pad;
  const colon = step === undefined ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + open + value.map((v) => write(v, step, inner)).join(sep) + close + ']';
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    if (keys.length === 0) return '{}';
    const record = value as Record<string, unknown>;
    return '{' + open + keys.map((k) => JSON.stringify(k) + colon + write(record[k], step, inner)).join(sep) + close + '}';
  }
  throw new TypeError(`canonical JSON cannot hold a value of type ${typeof value}`);
}
