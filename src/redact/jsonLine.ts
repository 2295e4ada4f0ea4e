/**
 * Redacting a serialized JSON line (pino's, winston's `format.json()`, the built-in logger's)
 * without breaking it, and with the one structured rule text rules cannot see: a registered
 * number printed as a JSON number would otherwise become a bare placeholder, and a
 * `{"name":"DB_PASSWORD","value":"…"}` entry names its secret in a sibling field.
 *
 * @module
 */
import type { Redactor } from './redactor.js';
import { namedSensitive, VALUE_FIELDS } from './value.js';

/**
 * `redactor.redact(line)`, kept valid JSON: a registered number (an account number) printed as a
 * JSON number becomes a bare placeholder (`"acct":[REDACTED]`); such a placeholder, with any
 * digits the match left beside it, is put in quotes. Lines with nothing masked return at once.
 */
export function redactJsonLine(redactor: JsonLineRedactor, line: string): string {
  let out = redactor.redact(line);
  // Only lines with a `value"`/`val"` key (see VALUE_FIELDS) can hold a name/value entry. The
  // redactor's detector pass says whether it met one; without detectors, one search here.
  const valueKey = redactor.valueKeySeen ?? VALUE_KEY.test(line);
  if (out !== line) out = quoteBarePlaceholders(out, redactor.placeholder);
  return valueKey ? hideNamedValues(out, redactor) : out;
}

/** What {@link redactJsonLine} needs of a redactor. */
export type JsonLineRedactor = Pick<Redactor, 'redact' | 'placeholder' | 'isSensitiveKey'> & {
  /** Set by the library's redactor after `redact` (see RedactorCore.valueKeySeen). */
  readonly valueKeySeen?: boolean | undefined;
};

/** A key that ends like a field of VALUE_FIELDS: `value"`, `val"`, `SecretValue"`, `VALUE"` … */
const VALUE_KEY = /val(?:ue)?"/i;

/**
 * The line with the value of every name/value entry whose name is sensitive masked (parsed and
 * serialized again only when something is masked). A line that is not JSON is returned as is.
 */
function hideNamedValues(line: string, redactor: Pick<Redactor, 'placeholder' | 'isSensitiveKey'>): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  if (!hide(parsed, redactor, 0)) return line;
  const end = line.length - line.trimEnd().length;
  return JSON.stringify(parsed) + line.slice(line.length - end);
}

/** Masks, in place, the value fields of sensitive name/value entries in `node`; true when any was. */
function hide(node: unknown, redactor: Pick<Redactor, 'placeholder' | 'isSensitiveKey'>, depth: number): boolean {
  if (typeof node !== 'object' || node === null || depth > 64) return false;
  let changed = false;
  if (Array.isArray(node)) {
    for (const v of node) changed = hide(v, redactor, depth + 1) || changed;
    return changed;
  }
  const record = node as Record<string, unknown>;
  const named = namedSensitive(record, redactor);
  for (const key of Object.keys(record)) {
    if (named && VALUE_FIELDS.has(key) && record[key] != null && record[key] !== redactor.placeholder) {
      record[key] = redactor.placeholder;
      changed = true;
    } else {
      changed = hide(record[key], redactor, depth + 1) || changed;
    }
  }
  return changed;
}

const isNumberChar = (c: number): boolean => (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;

/** Quotes every placeholder outside JSON strings (with adjacent number characters). */
function quoteBarePlaceholders(json: string, placeholder: string): string {
  // A placeholder with a quote or backslash would confuse the string tracking below.
  if (placeholder === '' || /["\\]/.test(placeholder)) return json;
  // Most masks are inside strings (`"…session=[REDACTED]"`): the walk below reads the whole
  // line, so it runs only when some placeholder stands where a number could.
  if (!mayBeBare(json, placeholder)) return json;
  let out = '';
  let last = 0;
  let inString = false;
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (!json.startsWith(placeholder, i)) continue;
    let s = i;
    while (s > last && isNumberChar(json.charCodeAt(s - 1))) s--;
    let e = i + placeholder.length;
    while (e < n) {
      if (json.startsWith(placeholder, e)) e += placeholder.length;
      else if (isNumberChar(json.charCodeAt(e))) e++;
      else break;
    }
    out += json.slice(last, s) + JSON.stringify(json.slice(s, e));
    last = e;
    i = e - 1;
  }
  return last === 0 ? json : out + json.slice(last);
}

const isSeparatorBefore = (c: number): boolean => c === 58 || c === 44 || c === 91 || c === 32 || c === 9 || c === 10 || c === 13;
const isSeparatorAfter = (c: number): boolean => c === 44 || c === 125 || c === 93 || c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Whether a placeholder in `json`, with the number characters around it, sits between what can
 * surround a JSON number (`:`, `,`, `[` or whitespace before; `,`, `}`, `]`, whitespace or the end
 * after). A placeholder that does not is inside a string. Over-inclusive, never under: a true
 * answer only sends the line to the exact walk.
 */
function mayBeBare(json: string, placeholder: string): boolean {
  const n = json.length;
  for (let i = json.indexOf(placeholder); i >= 0; i = json.indexOf(placeholder, i + 1)) {
    let s = i;
    while (s > 0 && isNumberChar(json.charCodeAt(s - 1))) s--;
    if (s > 0 && !isSeparatorBefore(json.charCodeAt(s - 1))) continue;
    let e = i + placeholder.length;
    while (e < n) {
      if (json.startsWith(placeholder, e)) e += placeholder.length;
      else if (isNumberChar(json.charCodeAt(e))) e++;
      else break;
    }
    if (e === n || isSeparatorAfter(json.charCodeAt(e))) return true;
  }
  return false;
}
