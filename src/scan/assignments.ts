/**
 * Values assigned to keys: `KEY = "…"`, `key: …`, `"x_secret": "…"`, `KEY=…` in .env files,
 * `key := "…"`. The scanner's byte loop calls {@link assignmentAt} at each `=` and `:`; most
 * return at once (an operator, no key, a short or code-like value). What remains is judged by the
 * key's name and the value's shape and Shannon entropy:
 *
 * - a credential-named key (`password`, `client_secret`, `apiKey`, `token` …) reports a value
 *   that looks like a credential (not words, not an identifier path, not a placeholder) with
 *   entropy of at least 2.5 bits per byte (3 when unquoted, where code such as `a = b` lives);
 * - an AWS secret-key name with a 40-byte base64 value reports `aws-secret-access-key`;
 * - any other key reports a value of 20–256 bytes with upper case, lower case and digits, entropy
 *   above 0.8 × log2(length) and no alphabet run, unless the key names a hash (`integrity`,
 *   `sha`, `checksum`, `etag` …) or the value is hex or an integrity string (`sha512-…`).
 *
 * @module
 */
import { looksLikeCredential } from '../redact/keys.js';
import { entropyBar, isSequence, mixedCase, shannonEntropy } from './entropy.js';
import type { RuleId } from './rules.js';

/** A value found by {@link assignmentAt}. */
export interface AssignmentHit {
  readonly rule: RuleId;
  readonly start: number;
  readonly end: number;
}

const KEY_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  KEY_CHAR[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46 ? 1 : 0;
}
/** Bytes an unquoted value is made of (base64, base64url, hex, and `.~!@#$%^&*` of passwords). */
const VALUE_CHAR = new Uint8Array(256);
for (let c = 33; c < 127; c++) VALUE_CHAR[c] = 1;
for (const c of [34, 39, 96, 44, 59, 41, 93, 125, 40, 91, 123, 60, 62, 38]) VALUE_CHAR[c] = 0;

const CREDENTIAL_WORDS = ['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'apikey', 'accesskey', 'privatekey', 'authkey', 'credential', 'signingkey', 'encryptionkey', 'sessionkey', 'masterkey', 'accountkey', 'clientkey', 'connectionstring'];
/** A credential word followed by one of these names something about the credential, not the credential. */
const NOT_VALUE_SUFFIXES = ['name', 'ref', 'file', 'path', 'url', 'uri', 'type', 'field', 'id', 'ids', 'env', 'var', 'prefix', 'header', 'headers', 'length', 'len', 'count', 'size', 'policy', 'mode', 'version', 'endpoint', 'label', 'hint', 'placeholder', 'regex', 'pattern', 'kind', 'format', 'provider', 'store', 'expiry', 'expires', 'ttl', 'status', 'required', 'error', 'message', 'description', 'help', 'text', 'hash', 'schema', 'manager', 'source', 'option', 'options'];
const HASH_WORDS = ['hash', 'sha', 'integrity', 'checksum', 'digest', 'etag', 'nonce', 'uuid', 'guid', 'commit', 'revision', 'fingerprint', 'md5', 'crc', 'signature', 'resolved', 'shasum', 'id'];
const PLACEHOLDERS = ['xxxx', 'example', 'your', 'changeme', 'placeholder', 'dummy', 'redacted', '****', '...', 'sample', 'todo', 'fixme', 'secret', 'password', 'replace', 'fake', 'test', 'abc123', '123456', 'redacted'];

const KEY_NONE = 0;
const KEY_CREDENTIAL = 1;
const KEY_AWS_SECRET = 2;
const KEY_HASH = 3;

/** Key classes by key text: a key met once is classified once. */
const keyClasses = new Map<string, number>();

function classify(key: string): number {
  let cls = keyClasses.get(key);
  if (cls !== undefined) return cls;
  const norm = key.toLowerCase().replace(/[-_.]/g, '');
  cls = KEY_NONE;
  if (norm.includes('aws') && norm.includes('secret')) cls = KEY_AWS_SECRET;
  // Hashes, pins and public keys are not secrets, whatever else the key says (`SHA256_TOKEN`, `pin-sha256`, `publicKey`).
  else if (HASH_WORDS.some((w) => w.length > 2 && norm.includes(w)) || norm.includes('public') || norm.startsWith('pub')) cls = KEY_HASH;
  else if (CREDENTIAL_WORDS.some((w) => namesCredential(norm, w))) cls = KEY_CREDENTIAL;
  else if (HASH_WORDS.some((w) => norm === w || norm.endsWith(w) || norm.startsWith(w))) cls = KEY_HASH;
  if (keyClasses.size > 10_000) keyClasses.clear();
  keyClasses.set(key, cls);
  return cls;
}

/** `norm` holds the credential word `w`, and what follows its last occurrence is not a word that makes it metadata. */
function namesCredential(norm: string, w: string): boolean {
  const at = norm.lastIndexOf(w);
  if (at === -1) return false;
  const rest = norm.slice(at + w.length).replace(/s$/, '');
  return rest === '' || !NOT_VALUE_SUFFIXES.includes(rest);
}

const isSpace = (c: number): boolean => c === 32 || c === 9;
const isQuote = (c: number): boolean => c === 34 || c === 39 || c === 96;

/**
 * The credential assigned at the separator `bytes[sep]` (`=` or `:`) of `text` (`bytes` is its
 * Latin-1 view), if any.
 */
export function assignmentAt(text: string, bytes: Uint8Array, sep: number, code = false): AssignmentHit | undefined {
  const n = bytes.length;
  const s = bytes[sep]!;
  let v = sep + 1;
  const next = bytes[v];
  // Operators: == => != <= >= :: :// and a ternary's or a type's ':' after a space in code is fine.
  if (next === 61 || next === 62 || (s === 58 && (next === 58 || next === 47))) {
    if (!(s === 58 && next === 61)) return undefined;
    v++; // Go's :=
  }
  if (sep > 0) {
    const prev = bytes[sep - 1]!;
    if (s === 61 && (prev === 33 || prev === 60 || prev === 62 || prev === 61 || prev === 43 || prev === 45 || prev === 42 || prev === 124 || prev === 38)) return undefined;
  }
  // The key, right to left: spaces, an optional closing quote, key bytes.
  let k = sep - 1;
  while (k >= 0 && isSpace(bytes[k]!)) k--;
  let quote = 0;
  if (k >= 0 && isQuote(bytes[k]!)) quote = bytes[k--]!;
  const ke = k + 1;
  while (k >= 0 && KEY_CHAR[bytes[k]!] === 1 && ke - k <= 64) k--;
  const ks = k + 1;
  if (ke - ks < 2 || ke - ks > 64) return undefined;
  if (quote !== 0 && bytes[ks - 1] !== quote) return undefined;
  // `cond ? 'a' : 'b'`: a quoted "key" with a space before the colon is a ternary's branch.
  if (quote !== 0 && s === 58 && ke + 1 < sep) return undefined;
  // The value: spaces, an optional quote, then to the closing quote or the end of the value.
  while (v < n && isSpace(bytes[v]!)) v++;
  let vq = bytes[v]!;
  let vs: number;
  let ve: number;
  if (isQuote(vq)) {
    vs = v + 1;
    ve = vs;
    while (ve < n && ve - vs <= 512) {
      const c = bytes[ve]!;
      if (c === vq || c === 10 || c === 13) break;
      if (c === 92) ve++;
      ve++;
    }
    if (bytes[ve] !== vq) return undefined;
  } else {
    vq = 0;
    vs = v;
    ve = v;
    while (ve < n && VALUE_CHAR[bytes[ve]!] === 1 && ve - vs <= 512) ve++;
    // In code, an unquoted value is an expression (`token = opts.token`, `key: Uint8Array`).
    if (code) return undefined;
    // A value followed by `(` or `[` is a call or an index, not a literal.
    const after = bytes[ve];
    if (after === 40 || after === 91) return undefined;
  }
  const len = ve - vs;
  if (len < 8 || len > 512) return undefined;
  // Non-ASCII: prose (a translated message), not a credential.
  for (let i = vs; i < ve; i++) if (bytes[i]! > 126) return undefined;
  const cls = classify(text.slice(ks, ke));
  if (cls === KEY_AWS_SECRET) {
    if (len === 40 && isBase64(bytes, vs, ve) && mixedCase(bytes, vs, ve)) return { rule: 'aws-secret-access-key', start: vs, end: ve };
  }
  if (cls === KEY_CREDENTIAL || cls === KEY_AWS_SECRET) {
    if (isPlaceholder(text, vs, ve) || hasSpace(bytes, vs, ve) || !looksLikeCredential(text, vs, ve)) return undefined;
    if (vq === 0 && (!hasDigit(bytes, vs, ve) || isDotted(bytes, vs, ve))) return undefined;
    // Needs a digit or a symbol, and not to be words run together (`AcquireTokenFromCache`, `SignatureV4Sign`).
    if (!hasDigit(bytes, vs, ve) && !hasSymbol(bytes, vs, ve)) return undefined;
    if (isWordy(bytes, vs, ve)) return undefined;
    if (shannonEntropy(bytes, vs, ve) < (vq === 0 ? 3 : 2.5)) return undefined;
    return { rule: 'secret-assignment', start: vs, end: ve };
  }
  if (cls === KEY_HASH || len < 20 || len > 256) return undefined;
  if (!isBase64(bytes, vs, ve) || !mixedCase(bytes, vs, ve) || !hasDigit(bytes, vs, ve)) return undefined;
  if (isSequence(bytes, vs, ve) || isAlphabet(bytes, vs, ve) || shannonEntropy(bytes, vs, ve) < entropyBar(len, 0.8)) return undefined;
  if (isPlaceholder(text, vs, ve) || isWordy(bytes, vs, ve) || encodesText(text, vs, ve)) return undefined;
  return { rule: 'high-entropy-assignment', start: vs, end: ve };
}

function isBase64(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61 || c === 95 || c === 45)) return false;
  }
  return true;
}
function hasDigit(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! >= 48 && bytes[i]! <= 57) return true;
  return false;
}
function hasSpace(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] === 32 || bytes[i] === 9) return true;
  return false;
}
/** `a.b.c` with word segments: a member expression, not a literal. */
function isDotted(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to - 1; i++) {
    if (bytes[i] === 46) {
      const c = bytes[i + 1]!;
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36) return true;
    }
  }
  return false;
}
function isPlaceholder(text: string, from: number, to: number): boolean {
  const c = text.charCodeAt(from);
  const last = text.charCodeAt(to - 1);
  // $VAR and ${VAR}, {{ var }}, <password>, [REDACTED], %s, %(name)s, %VAR%
  if (c === 36 || (c === 123 && last === 125) || (c === 60 && last === 62) || (c === 91 && last === 93)) return true;
  if (c === 37 && /^%(?:(?:\(\w+\))?[a-z]|[A-Za-z_]\w*%)$/.test(text.slice(from, to))) return true;
  const value = text.slice(from, to).toLowerCase();
  if (value.includes('${') || value.includes('\xe2\x80\xa6')) return true; // a template, an ellipsis (…)
  if (value.includes('://')) return true; // a URL: the URL rule decides
  return PLACEHOLDERS.some((p) => value.includes(p));
}

/** Every byte distinct over 26 or more: an alphabet (nanoid's `urlAlphabet`), not a key (random text repeats itself). */
function isAlphabet(bytes: Uint8Array, from: number, to: number): boolean {
  if (to - from < 26) return false;
  const seen = new Set<number>();
  for (let i = from; i < to; i++) {
    if (seen.has(bytes[i]!)) return false;
    seen.add(bytes[i]!);
  }
  return true;
}

/** A byte that is neither a letter, a digit nor `_` / `-` / `.`: `+ / = ! @ # $ % ^ & * ~ ?`. */
function hasSymbol(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46)) return true;
  }
  return false;
}

/**
 * Words run together: split at case changes, digits and punctuation (`AcquireTokenFromCache` →
 * Acquire Token From Cache, `XMLHttpV2` → XML Http V 2), segments of three letters or more
 * with a vowel cover at least 60% of the value, average 4.5 letters or more, and a third of the
 * letters are vowels. Random strings split into short pieces and have few vowels (about one
 * random 18-character password in 1,500 still passes for words and is not reported).
 */
export function isWordy(bytes: Uint8Array, from: number, to: number): boolean {
  let covered = 0;
  let segments = 0;
  let i = from;
  while (i < to) {
    const c = bytes[i]!;
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (!upper && !lower) {
      i++;
      continue;
    }
    const s = i;
    i++;
    let counts = true;
    if (upper) {
      // An upper-case run: `XML` of `XMLHttp` (the last capital starts the next word), `Token`, or
      // a constant's `MAX` (counted only between separators: random text has capital runs too).
      while (i < to && bytes[i]! >= 65 && bytes[i]! <= 90) i++;
      if (i - s > 1 && i < to && bytes[i]! >= 97 && bytes[i]! <= 122) i--;
      else if (i - s > 1) counts = (s === from || isSeparator(bytes[s - 1]!)) && (i === to || isSeparator(bytes[i]!));
      else while (i < to && bytes[i]! >= 97 && bytes[i]! <= 122) i++;
    } else {
      while (i < to && bytes[i]! >= 97 && bytes[i]! <= 122) i++;
    }
    if (counts && i - s >= 3 && hasVowel(bytes, s, i)) {
      covered += i - s;
      segments++;
    }
  }
  // Words are long: random text's letter runs that pass for words are mostly three or four long.
  if (covered * 10 < (to - from) * 6 || covered < segments * 4.5) return false;
  // Words have vowels (about 40% of letters); random letters about 19% (10 of 52).
  let letters = 0;
  let vowels = 0;
  for (let k = from; k < to; k++) {
    const c = bytes[k]! | 32;
    if (c >= 97 && c <= 122) {
      letters++;
      if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117) vowels++;
    }
  }
  return vowels * 10 >= letters * 3;
}

function hasVowel(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i]! | 32;
    if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117 || c === 121) return true;
  }
  return false;
}

const isSeparator = (c: number): boolean => c === 95 || c === 45 || c === 46 || c === 47 || c === 58;

/** Base64 that decodes to printable text (encoded JSON or words), not to the random bytes of a key. */
function encodesText(text: string, from: number, to: number): boolean {
  const decoded = Buffer.from(text.slice(from, to).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (decoded.length < 8) return false;
  let printable = 0;
  for (const b of decoded) if ((b >= 32 && b < 127) || b === 10 || b === 13 || b === 9) printable++;
  return printable * 10 >= decoded.length * 9;
}
