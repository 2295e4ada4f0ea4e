/**
 * Derived forms: the spellings a secret takes on its way into a log line. The redactor registers
 * each of them beside the value itself; `expectNoSecrets` looks for each of them in an output.
 *
 * @module
 */

/** Which family a derived form belongs to (for messages; never the form itself). */
export type FormKind =
  | 'raw'
  | 'base64'
  | 'base64url'
  | 'url-encoded'
  | 'json-escaped'
  | 'inspect-escaped'
  | 'unicode'
  | 'utf8-as-latin1'
  | 'hex'
  | 'basic-auth';

/** One derived form of a value. */
export interface DerivedForm {
  readonly kind: FormKind;
  readonly text: string;
}

const B64_STD = /[+/]/g;
const UNRESERVED = /^[A-Za-z0-9._-]*$/;

/**
 * The base64 spellings of `bytes`: the standalone encoding (padded and unpadded) and, for each of
 * the three alignments the bytes can have inside a longer blob, the run of characters that only
 * these bytes determine (so a secret embedded in a larger base64 payload is still found).
 */
export function base64Forms(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const padded = buf.toString('base64');
  out.push(padded);
  const unpadded = padded.replace(/=+$/, '');
  if (unpadded !== padded) out.push(unpadded);
  const n = bytes.byteLength;
  for (let a = 0; a < 3; a++) {
    // Encode `a` unknown bytes, then the secret; keep the characters whose 6 bits all come from
    // the secret's bits [8a, 8(a + n)).
    const shifted = Buffer.alloc(a + n);
    buf.copy(shifted, a);
    const enc = shifted.toString('base64');
    const first = Math.ceil((8 * a) / 6);
    const last = Math.floor((8 * (a + n)) / 6);
    if (last > first) out.push(enc.slice(first, last));
  }
  return out;
}

/** `base64Forms` in the URL-safe alphabet (`-` and `_`), only those that differ. */
function base64urlForms(b64: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of b64) {
    if (!B64_STD.test(f)) continue;
    B64_STD.lastIndex = 0;
    out.push(f.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  }
  B64_STD.lastIndex = 0;
  return out;
}

const lowerHex = (s: string): string => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** URL encodings: `encodeURIComponent`, form encoding (`+` for space), `encodeURI`, lower-case hex. */
function urlForms(value: string): string[] {
  const out: string[] = [];
  try {
    const component = encodeURIComponent(value);
    const form = new URLSearchParams([['k', value]]).toString().slice(2);
    const uri = encodeURI(value);
    for (const f of [component, component.replace(/%20/g, '+'), form, uri]) out.push(f, lowerHex(f));
  } catch {
    // A lone surrogate cannot be URL-encoded; nothing to add.
  }
  return out;
}

/** How many times a secret may be JSON-escaped on its way out: JSON in JSON, logged by a JSON logger. */
const JSON_LEVELS = 3;

/** The body of `JSON.stringify(text)`. */
const jsonBody = (text: string): string => JSON.stringify(text).slice(1, -1);

/**
 * JSON string escapes: as `JSON.stringify` writes them, ASCII-only (`\uXXXX`, both hex cases, as
 * Python's `json.dumps` writes them), each escaped again up to {@link JSON_LEVELS} times in all
 * (a JSON document inside a JSON string, written by a JSON logger: pino's `%j`, a payload field).
 */
function jsonForms(value: string): string[] {
  const out: string[] = [];
  const once = jsonBody(value);
  const starts = [once];
  if (/[^\x00-\x7f]/.test(once)) {
    const ascii = once.replace(/[^\x00-\x7f]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
    starts.push(ascii, ascii.replace(/\\u[0-9a-f]{4}/g, (m) => m.toUpperCase().replace('\\U', '\\u')));
  }
  for (const start of starts) {
    let form = start;
    out.push(form);
    for (let level = 2; level <= JSON_LEVELS; level++) {
      const next = jsonBody(form);
      if (next === form) break;
      out.push((form = next));
    }
  }
  return out;
}

/** `util.inspect`'s escapes of control characters (the ones without a short form become `\xHH`). */
const INSPECT_NAMED: Readonly<Record<string, string>> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '\\': '\\\\' };
const INSPECT_ESCAPED = /[\x00-\x1f\x27\x5c\x7f-\x9f]/g;

/**
 * The bodies `util.inspect` (console.log of an object, `%o`, `%O`) writes for a string: the
 * backslash doubled and control characters escaped; it quotes with `'`, or with `"` or a backtick
 * when the string holds a `'`, and escapes the quote only when it had to fall back to `'`. So
 * there are two bodies: `'` kept, and `'` escaped. Quotes `"` and backticks are never escaped.
 */
function inspectForms(value: string): string[] {
  const escape = (quote: boolean): string =>
    value.replace(INSPECT_ESCAPED, (c) => {
      if (c === "'") return quote ? "\\'" : "'";
      return INSPECT_NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    });
  const kept = escape(false);
  return value.includes("'") ? [kept, escape(true)] : [kept];
}

type AddForm = (kind: FormKind, text: string) => void;

/** A list of forms and the function that adds to it, skipping duplicates and forms shorter than `minLength`. */
function collector(minLength: number): { readonly out: DerivedForm[]; readonly add: AddForm } {
  const seen = new Set<string>();
  const out: DerivedForm[] = [];
  const add: AddForm = (kind, text) => {
    if (text.length < minLength || seen.has(text)) return;
    seen.add(text);
    out.push({ kind, text });
  };
  return { out, add };
}

/** Adds the base64 forms of `bytes` (every alignment) and their base64url twins. */
function addBase64(bytes: Uint8Array, add: AddForm): void {
  const b64 = base64Forms(bytes);
  for (const f of b64) add('base64', f);
  for (const f of base64urlForms(b64)) add('base64url', f);
}

/**
 * Every derived form of a text value, the value itself first. Duplicates are removed; forms
 * shorter than `minLength` are dropped.
 *
 * @example
 * ```ts
 * deriveForms('pa ss/word').map((f) => f.kind); // ['raw', 'unicode'?, 'base64', …, 'url-encoded', …]
 * ```
 */
export function deriveForms(value: string, minLength = 1): DerivedForm[] {
  const { out, add } = collector(minLength);
  add('raw', value);
  // Unreserved ASCII (letters, digits, - _ .) is the same URL-encoded, JSON-escaped and
  // normalized: skip that work for the most common kind of generated secret.
  const plain = UNRESERVED.test(value);
  if (!plain) {
    add('unicode', value.normalize('NFC'));
    add('unicode', value.normalize('NFD'));
  }
  addBase64(Buffer.from(value, 'utf8'), add);
  if (!plain) {
    for (const f of urlForms(value)) add('url-encoded', f);
    for (const f of jsonForms(value)) add('json-escaped', f);
    // util.inspect of the value, of its JSON form (an object holding a JSON payload), and the
    // inspected text logged as JSON.
    for (const f of inspectForms(value)) {
      add('inspect-escaped', f);
      add('inspect-escaped', jsonBody(f));
    }
    for (const f of inspectForms(jsonBody(value))) add('inspect-escaped', f);
    // The UTF-8 bytes of every non-ASCII form read as Latin-1: what a Buffer scan (and mojibake
    // in a log) shows.
    for (const form of [...out]) {
      if (/[^\x00-\x7f]/.test(form.text)) add('utf8-as-latin1', Buffer.from(form.text, 'utf8').toString('latin1'));
    }
  }
  return out;
}

/**
 * Derived forms of a binary value: its UTF-8 text (when it decodes cleanly, with that text's
 * forms), its Latin-1 view (what a Buffer scan sees), base64 in every alignment, and hex.
 */
export function deriveBinaryForms(bytes: Uint8Array, minLength = 1): DerivedForm[] {
  const { out, add } = collector(minLength);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = utf8Text(bytes);
  if (text !== undefined) for (const f of deriveForms(text, minLength)) add(f.kind, f.text);
  add('utf8-as-latin1', buf.toString('latin1'));
  addBase64(bytes, add);
  const hex = buf.toString('hex');
  add('hex', hex);
  add('hex', hex.toUpperCase());
  return out;
}

/** `bytes` as UTF-8 text, or undefined when they are not valid UTF-8 (binary keys, Latin-1 files). */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The `Basic` auth token of a username and password: base64 of `user:password`. */
export function basicAuthForms(username: string, password: string): string[] {
  const token = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  return [token, token.replace(/=+$/, '')];
}
