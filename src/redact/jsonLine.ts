/**
 * Redacting a serialized JSON line (pino's, winston's `format.json()`, the built-in logger's)
 * without breaking it: a registered number printed as a JSON number would otherwise become a
 * bare placeholder.
 *
 * @module
 */
import type { Redactor } from './redactor.js';

/**
 * `redactor.redact(line)`, kept valid JSON: a registered number (an account number) printed as a
 * JSON number becomes a bare placeholder (`"acct":[REDACTED]`); such a placeholder, with any
 * digits the match left beside it, is put in quotes. Lines with nothing masked return at once.
 */
export function redactJsonLine(redactor: Pick<Redactor, 'redact' | 'placeholder'>, line: string): string {
  const out = redactor.redact(line);
  return out === line ? out : quoteBarePlaceholders(out, redactor.placeholder);
}

const isNumberChar = (c: number): boolean => (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;

/** Quotes every placeholder outside JSON strings (with adjacent number characters). */
function quoteBarePlaceholders(json: string, placeholder: string): string {
  // A placeholder with a quote or backslash would confuse the string tracking below.
  if (placeholder === '' || /["\\]/.test(placeholder)) return json;
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
