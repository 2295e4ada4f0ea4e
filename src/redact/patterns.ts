/**
 * Pattern detectors and text rules: credentials found by their shape or by the key in front of
 * them, without having been registered.
 *
 * One pass finds the *triggers* of every enabled detector (`AKIA`, `ghp_`, `eyJ`, `://`,
 * `password` …); the detector then validates the exact shape at that position. Text without
 * any trigger costs that one pass, never one regular expression per detector.
 *
 * Credential-shaped literals are deliberately absent from this file: prefixes are written
 * apart from any body, and the PEM armour is assembled at run time.
 *
 * @module
 */
import { KEY_SHAPED, KeySpanCache, SPAN_AUTH, SPAN_WHOLE_LINE, isStatusWord, looksLikeCredential, type KeyRules } from './keys.js';
import type { DetectorName } from './options.js';

/** Pushes a masked range `[start, end)`. */
export type Push = (start: number, end: number) => void;

const DASHES = '-'.repeat(5);
const PEM_BEGIN = new RegExp(`${DASHES}BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?${DASHES}`, 'y');
const PEM_END = `${DASHES}END `;

/** Database URI schemes whose userinfo password `databaseUri` masks. */
const DB_SCHEMES = new Set([
  'postgres', 'postgresql', 'pgsql', 'mysql', 'mysqlx', 'mariadb', 'mongodb', 'mongodb+srv', 'redis',
  'rediss', 'valkey', 'amqp', 'amqps', 'mssql', 'sqlserver', 'oracle', 'clickhouse', 'snowflake',
  'cockroachdb', 'cassandra', 'couchbase', 'couchbases', 'neo4j', 'neo4j+s', 'bolt', 'db2', 'redshift',
  'memcached', 'nats', 'kafka', 'elasticsearch', 'opensearch', 'influxdb', 'vertica', 'teradata',
  'hana', 'trino', 'presto', 'databricks', 'sybase', 'firebird', 'crate', 'timescaledb',
]);

const AUTH_SCHEMES = /(?:bearer|basic|digest|token|negotiate|ntlm|bot|oauth|aws4-hmac-sha256|splunk|sharedkey|apikey|sso-key)[ \t]+/iy;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isUpperAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
const isB64url = (c: number): boolean => isAlnum(c) || c === 45 || c === 95;
const isKeyChar = (c: number): boolean => isAlnum(c) || c === 95 || c === 45 || c === 46;
const isSpace = (c: number): boolean => c === 32 || c === 9;
const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
const isSchemeChar = (c: number): boolean => isAlnum(c) || c === 43 || c === 45 || c === 46;
/** Ends an unquoted value: whitespace, quotes, and the separators of params, lists and objects. */
const endsValue = (c: number): boolean =>
  isWs(c) || c === 34 || c === 39 || c === 44 || c === 59 || c === 38 || c === 125 || c === 93 || c === 41 || c === 60 || c === 62 || c === 92;

/** Length of the run from `i` of code units satisfying `ok`, up to `max`. */
function run(text: string, i: number, ok: (c: number) => boolean, max = Infinity): number {
  let j = i;
  while (j < text.length && j - i < max && ok(text.charCodeAt(j))) j++;
  return j - i;
}

/** True when the code unit before `i` does not continue a token of `ok` characters. */
function boundaryBefore(text: string, i: number, ok: (c: number) => boolean = isAlnum): boolean {
  return i === 0 || !ok(text.charCodeAt(i - 1));
}

/** A prefix `text[at, from)` (checked by the caller), then `min`–`max` body characters; masks the whole token. */
function token(text: string, at: number, from: number, body: (c: number) => boolean, min: number, max: number, push: Push): void {
  if (!boundaryBefore(text, at, isB64url)) return;
  const len = run(text, from, body, max + 1);
  if (len < min || len > max) return;
  if (from + len < text.length && isAlnum(text.charCodeAt(from + len))) return;
  push(at, from + len);
}

/** Context of one text scan, shared by the detectors. */
export interface DetectContext {
  readonly enabled: ReadonlySet<DetectorName>;
  /** The classes of keys met in text (see {@link KeySpanCache}). */
  readonly keys: KeySpanCache;
  readonly placeholder: string;
  /** `keyValue` is on. */
  readonly keyValueOn: boolean;
  /** `urlQueryParams` or `keyValue` is on: parameter names count. */
  readonly paramsOn: boolean;
  /** `urlUserinfo` is on: every scheme's userinfo password is masked. */
  readonly anyUserinfo: boolean;
  /** `databaseUri` is on. */
  readonly dbUserinfo: boolean;
  /** End of the last key examined, so a key with several keywords is examined once. */
  lastKeyEnd: number;
  /**
   * The text has a quoted key ending `value"` or `val"` in any case (a name/value entry may
   * hide its secret behind a sensitive name in a sibling field): the JSON-line rule then parses
   * the line (see `redactJsonLine`). Found by the same pass, so other lines cost nothing more.
   */
  valueKey: boolean;
}

type Handler = (text: string, at: number, end: number, ctx: DetectContext, push: Push) => void;

interface Trigger {
  readonly detector: DetectorName;
  readonly words: readonly string[];
  readonly handler: Handler;
}

const aws: Handler = (text, at, end, _ctx, push) => {
  // The trigger matched ignoring case; the prefix is upper case (AKIA, ASIA, ABIA, ACCA).
  for (let k = at; k < end; k++) if (!isUpperAlnum(text.charCodeAt(k))) return;
  token(text, at, end, isUpperAlnum, 16, 16, push);
};

/** `text[at, end)` is exactly `word` (the triggers match ignoring case; these prefixes do not). */
const exact = (text: string, at: number, end: number, word: string): boolean => end - at === word.length && text.startsWith(word, at);
const isAlnumOr95 = (c: number): boolean => isAlnum(c) || c === 95;
const isAlnumOr45 = (c: number): boolean => isAlnum(c) || c === 45;

const github: Handler = (text, at, end, _ctx, push) => {
  if (exact(text, at, end, 'github_pat_')) token(text, at, end, isAlnumOr95, 22, 255, push);
  else if (text.charCodeAt(at) === 103 && text.charCodeAt(at + 1) === 104 && text.charCodeAt(at + 2) >= 97 && text.charCodeAt(at + 3) === 95) token(text, at, end, isAlnum, 36, 255, push);
};

const slack: Handler = (text, at, end, _ctx, push) => {
  if (end - at === 5) {
    // xoxb- xoxp- xoxa- xoxo- xoxs- xoxr- xapp-: lower case only.
    for (let k = at; k < end - 1; k++) if (text.charCodeAt(k) < 97) return;
    token(text, at, end, isAlnumOr45, 10, 512, push);
  } else {
    const len = run(text, end, (c) => isAlnum(c) || c === 47);
    if (len >= 8) push(end, end + len);
  }
};

const google: Handler = (text, at, end, _ctx, push) => {
  if (exact(text, at, end, 'AIza')) token(text, at, end, isB64url, 35, 35, push);
};

const stripe: Handler = (text, at, end, _ctx, push) => {
  if (exact(text, at, end, 'sk_live_') || exact(text, at, end, 'rk_live_')) token(text, at, end, isAlnum, 10, 255, push);
};

const jwt: Handler = (text, at, _end, _ctx, push) => {
  if (text.charCodeAt(at) !== 101 || text.charCodeAt(at + 1) !== 121 || text.charCodeAt(at + 2) !== 74 || !boundaryBefore(text, at, isB64url)) return;
  let j = at + run(text, at, isB64url);
  let parts = 1;
  while (parts < 5 && text.charCodeAt(j) === 46) {
    const len = run(text, j + 1, isB64url);
    if (len === 0 && parts < 2) return;
    j += 1 + len;
    parts += 1;
  }
  if (parts < 3 || j - at < 16) return;
  push(at, j);
};

const pem: Handler = (text, at, _end, _ctx, push) => {
  PEM_BEGIN.lastIndex = at;
  const m = PEM_BEGIN.exec(text);
  if (m === null) return;
  const bodyStart = at + m[0].length;
  const endAt = text.indexOf(PEM_END, bodyStart);
  push(bodyStart, endAt === -1 ? text.length : endAt);
};

const azure: Handler = (text, _at, end, _ctx, push) => {
  const len = run(text, end, (c) => !endsValue(c));
  if (len > 0) push(end, end + len);
};

/** `scheme://user:password@host`: masks the password (any scheme, or database schemes only). */
const userinfo: Handler = (text, at, end, ctx, push) => {
  let s = at;
  while (s > 0 && isSchemeChar(text.charCodeAt(s - 1))) s--;
  if (s === at) return;
  if (!ctx.anyUserinfo) {
    if (!ctx.dbUserinfo || !DB_SCHEMES.has(text.slice(s, at).toLowerCase().replace(/^jdbc:/, ''))) return;
  }
  // The authority runs to whitespace or a quote; the userinfo ends at its last '@'.
  let t = end;
  while (t < text.length) {
    const c = text.charCodeAt(t);
    if (isWs(c) || c === 34 || c === 39 || c === 60 || c === 62) break;
    t++;
  }
  // The last '@' of the authority, looked for inside it only: `lastIndexOf` would walk back to
  // the start of the text for every URL without one (quadratic on a file full of URLs).
  let atSign = t - 1;
  while (atSign >= end && text.charCodeAt(atSign) !== 64) atSign--;
  if (atSign < end) return;
  let colon = end;
  while (colon < atSign) {
    const c = text.charCodeAt(colon);
    if (c === 58) break;
    // Before the password's colon: a path, query, fragment or IPv6 literal means there is no
    // userinfo (`http://[::1]:8080/x@y`, `https://host/a:b@c`).
    if (c === 47 || c === 63 || c === 35 || c === 91) return;
    colon++;
  }
  if (colon >= atSign) return;
  // `host:8080/path@x` is a port and a path, not a password.
  let digits = colon + 1;
  while (digits < atSign && digits - colon <= 5 && isDigit(text.charCodeAt(digits))) digits++;
  if (digits > colon + 1 && digits - colon <= 6) {
    const c = text.charCodeAt(digits);
    if (c === 47 || c === 63 || c === 35) return;
  }
  // A host follows the '@', or nothing does (`azure://id:pw@`: the password is there all the same).
  const after = text.charCodeAt(atSign + 1);
  if (atSign + 1 < t && !isAlnum(after) && after !== 91) return;
  if (atSign > colon + 1) push(colon + 1, atSign);
};

/** `key=value`, `key: value`, `"key":"value"`, `?key=value`: masks the value of a sensitive key. */
const keyValue: Handler = (text, at, end, ctx, push) => {
  const n = text.length;
  let ks = at;
  while (ks > 0 && isKeyChar(text.charCodeAt(ks - 1))) ks--;
  if (ks < ctx.lastKeyEnd) return;
  let ke = end;
  while (ke < n && isKeyChar(text.charCodeAt(ke))) ke++;
  // A key does not end with a dot (end of a sentence).
  while (ke > end && text.charCodeAt(ke - 1) === 46) ke--;
  ctx.lastKeyEnd = ke;
  const prev = ks > 0 ? text.charCodeAt(ks - 1) : -1;
  // Quoted keys: "key", 'key', and \"key\" inside an escaped JSON string.
  const quote = prev === 34 || prev === 39 ? prev : 0;
  const escaped = quote !== 0 && ks > 1 && text.charCodeAt(ks - 2) === 92;
  let j = ke;
  if (quote !== 0) {
    if (!escaped && text.charCodeAt(j) === quote) j += 1;
    else if (escaped && text.charCodeAt(j) === 92 && text.charCodeAt(j + 1) === quote) j += 2;
  }
  while (j < n && isSpace(text.charCodeAt(j))) j++;
  const sep = text.charCodeAt(j);
  if (sep !== 61 && sep !== 58) return;
  if (sep === 58 && text.charCodeAt(j + 1) === 47 && text.charCodeAt(j + 2) === 47) return;
  if (sep === 61 && (text.charCodeAt(j + 1) === 61 || text.charCodeAt(j - 1) === 33)) return;
  j++;
  const paramContext = sep === 61 && (prev === -1 || prev === 63 || prev === 38 || prev === 59 || isWs(prev));
  const bits = ctx.keys.lookup(text, ks, ke);
  let cls = ctx.keyValueOn ? bits & 3 : 0;
  if (paramContext && ctx.paramsOn && (bits >> 2) % 4 > cls) cls = (bits >> 2) % 4;
  if (cls === 0) return;
  while (j < n && isSpace(text.charCodeAt(j))) j++;
  let vs = j;
  let ve: number;
  const c = text.charCodeAt(j);
  const wholeLine = (bits & SPAN_WHOLE_LINE) !== 0;
  if (c === 34 || c === 39 || (c === 92 && text.charCodeAt(j + 1) === 34)) {
    const inner = c === 92;
    vs = j + (inner ? 2 : 1);
    ve = closingQuote(text, vs, inner ? 34 : c, inner);
  } else {
    if ((bits & SPAN_AUTH) !== 0) {
      AUTH_SCHEMES.lastIndex = j;
      if (AUTH_SCHEMES.test(text)) vs = j = AUTH_SCHEMES.lastIndex;
    }
    ve = j;
    if (wholeLine) {
      while (ve < n) {
        const d = text.charCodeAt(ve);
        if (d === 10 || d === 13 || d === 34 || (quote === 39 && d === 39)) break;
        if (d === 92 && escaped) break;
        ve++;
      }
      while (ve > vs && isSpace(text.charCodeAt(ve - 1))) ve--;
    } else {
      while (ve < n && !endsValue(text.charCodeAt(ve))) ve++;
    }
  }
  if (ve <= vs) return;
  if (text.startsWith(ctx.placeholder, vs)) return;
  if (isStatusWord(text, vs, ve)) return;
  const first = text.charCodeAt(vs);
  if (first === 123 || first === 91) return; // an object or array: its own keys decide
  if (isUrl(text, vs, ve)) return; // a URL or a ref: the URL rules decide
  // Most key rules mask only what looks like a credential (`token: expired` stays).
  if (cls === KEY_SHAPED && !wholeLine && !looksLikeCredential(text, vs, ve)) return;
  push(vs, ve);
};

/** `text[from, to)` starts with `scheme://`. */
function isUrl(text: string, from: number, to: number): boolean {
  let i = from;
  const c = text.charCodeAt(i);
  if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  i++;
  while (i < to && isSchemeChar(text.charCodeAt(i))) i++;
  return i + 2 < to && text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47;
}

/**
 * The index of the quote `qc` closing a value that starts at `from`, with backslash escapes, or,
 * inside an escaped JSON string (`inner`), the `\"` that is not itself an escaped quote of the
 * inner string. A newline also ends the value.
 */
function closingQuote(text: string, from: number, qc: number, inner: boolean): number {
  const n = text.length;
  if (inner) {
    let innerEscape = false;
    for (let i = from; i < n; ) {
      const c = text.charCodeAt(i);
      const lit = c === 92 ? text.charCodeAt(i + 1) : c;
      const width = c === 92 ? 2 : 1;
      if (c === 10 || lit === 10) return i;
      if (innerEscape) innerEscape = false;
      else if (c === 92 && lit === 92) innerEscape = true;
      else if (c === 92 && lit === 34) return i;
      i += width;
    }
    return n;
  }
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) {
      i++;
      continue;
    }
    if (c === qc || c === 10) return i;
  }
  return n;
}

/** `Bearer <token>` and `Basic <base64 of user:password>` anywhere in a text. */
const authorization: Handler = (text, at, end, _ctx, push) => {
  if (!boundaryBefore(text, at) || (end < text.length && isAlnum(text.charCodeAt(end)))) return;
  const gap = run(text, end, isSpace);
  if (gap === 0) return;
  const from = end + gap;
  // The triggers are `bearer` and `basic`.
  if (end - at === 6) {
    const len = run(text, from, (c) => isAlnum(c) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47 || c === 61);
    if (len < 8) return;
    // `=` only as base64 padding at the end: `Bearer expiresIn=3600` is a description, not a token.
    let body = from + len;
    while (body > from && text.charCodeAt(body - 1) === 61) body--;
    for (let k = from; k < body; k++) if (text.charCodeAt(k) === 61) return;
    if (looksLikeCredential(text, from, body)) push(from, from + len);
    return;
  }
  const len = run(text, from, (c) => isAlnum(c) || c === 43 || c === 47 || c === 61);
  if (len < 8) return;
  const decoded = Buffer.from(text.slice(from, from + len), 'base64').toString('latin1');
  if (decoded.includes(':')) push(from, from + len);
};

/** Marks a `value"`/`val"` key for the JSON-line rule; masks nothing itself. */
const valueKey: Handler = (_text, _at, _end, ctx) => {
  ctx.valueKey = true;
};
/** The triggers of {@link valueKey}: every field name of `VALUE_FIELDS` (value.ts) ends with one, in any case. */
const VALUE_KEY_WORDS = ['value"', 'val"'];

const TRIGGERS: readonly Trigger[] = [
  { detector: 'awsAccessKeyId', words: ['akia', 'asia', 'abia', 'acca'], handler: aws },
  { detector: 'githubToken', words: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'], handler: github },
  { detector: 'slackToken', words: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxo-', 'xoxs-', 'xoxr-', 'xapp-', 'hooks.slack.com/services/'], handler: slack },
  { detector: 'googleApiKey', words: ['aiza'], handler: google },
  { detector: 'stripeLiveKey', words: ['sk_live_', 'rk_live_'], handler: stripe },
  { detector: 'jwt', words: ['eyj'], handler: jwt },
  { detector: 'pemPrivateKey', words: [`${DASHES}begin`], handler: pem },
  { detector: 'azureStorageConnectionString', words: ['accountkey=', 'sharedaccesssignature='], handler: azure },
  { detector: 'databaseUri', words: ['://'], handler: userinfo },
  { detector: 'urlUserinfo', words: ['://'], handler: userinfo },
  { detector: 'authorizationHeader', words: ['bearer', 'basic'], handler: authorization },
];

/** The detector each handler reports as (userinfo serves two: it reports the wider one). */
const HANDLER_DETECTOR: ReadonlyMap<Handler, DetectorName> = new Map<Handler, DetectorName>([
  ...TRIGGERS.filter((t) => t.detector !== 'databaseUri').map((t) => [t.handler, t.detector] as const),
  [keyValue, 'keyValue'],
]);

/**
 * What may follow a key word of three letters (`pwd`, `key`, `sig` …) for it to be a trigger: the
 * end of a key (a quote, a separator, or one space or tab and a separator). Longer key words
 * trigger anywhere. (A lone space is no ending: English words end in `t `, `d `, `s ` too often
 * for the skip to pass over them quickly.)
 */
const KEY_ENDINGS = ['"', "'", '=', ':', ' =', ' :', '\t=', '\t:', '\\'];
/**
 * Three-character triggers made four long so the quad tables can hold them: `://` with the last
 * character of its scheme in front, `eyJ` with the first base64url character after it. The
 * handler still receives the position of the original three characters.
 */
const SCHEME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789+.-';
const B64URL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
const WIDENED: Readonly<Record<string, { readonly variants: readonly string[]; readonly offset: number }>> = {
  '://': { variants: [...SCHEME_CHARS].map((c) => c + '://'), offset: 1 },
  eyj: { variants: [...B64URL_CHARS].map((c) => 'eyj' + c), offset: 0 },
};

/** The skip window: every trigger's filter pattern is at least this long. */
const WINDOW = 5;
const ALL_BYTES: readonly number[] = Array.from({ length: 256 }, (_, b) => b);
const bytesWhere = (ok: (b: number) => boolean): readonly number[] => ALL_BYTES.filter(ok);
/** What may stand before a token detector's prefix: not a base64url character (see `token`). */
const BOUNDARY = bytesWhere((b) => !isB64url(b));
/** What may follow `scheme://` when it carries userinfo: not a space, quote, bracket, slash or backslash. */
const AUTHORITY = bytesWhere((b) => !isWs(b) && b !== 34 && b !== 39 && b !== 60 && b !== 62 && b !== 47 && b !== 92);
/** Handlers whose triggers are token prefixes: their filter pattern starts with a {@link BOUNDARY} byte. */
const TOKEN_HANDLERS: ReadonlySet<Handler> = new Set([aws, github, google, jwt]);

/** A folded (lower-case ASCII) byte and its upper-case twin when it is a letter. */
function cases(c: number): number[] {
  return c >= 97 && c <= 122 ? [c, c - 32] : [c];
}

/** ASCII letters to lower case; other non-ASCII bytes to 0 (triggers are ASCII). */
function foldByte(b: number): number {
  return (b - 65) >>> 0 < 26 ? b | 32 : b > 127 ? 0 : b;
}

/**
 * The enabled detectors of one redactor.
 *
 * Finding the triggers is a Wu–Manber skip over the text's bytes. Each trigger has a *filter
 * pattern* of at least five byte classes: the trigger itself, plus, for four-character ones, what
 * must surround it for a detector to have anything to do (a non-base64 byte before a token
 * prefix, a host byte after `://`, any byte before a three-letter key and its ending). So a
 * window of five bytes moves by the shift its last two bytes allow in a 64 KiB table — by four,
 * mostly — and a text without triggers costs one table read per four bytes. Where the shift is 0,
 * two tables of hashed four-byte groups (the trigger at the window's start, or one byte in) say
 * which triggers may start there (a bucket of trigger ids); only those are compared, and each
 * hit is handed to the detectors listening to that trigger, which check the exact shape. The
 * key-value candidates are triggers of the same pass (the key rules' keywords). Nothing on this
 * path slices, lower-cases, tests a RegExp or looks up a Map: the tables are typed arrays and
 * plain arrays indexed by id, and a key met before is classified from a cache indexed by its
 * characters (KeySpanCache).
 */
export class Detectors {
  /** Trigger words (lower case), by id. */
  readonly #words: string[] = [];
  /** Handlers per trigger id. */
  readonly #handlers: Handler[][] = [];
  /** The detector of each of those handlers (see {@link Detectors.current}). */
  readonly #handlerDetectors: DetectorName[][] = [];
  /** Per trigger id: where, in a widened trigger, the original one starts (see WIDENED); -1 when not widened. */
  readonly #offset: number[] = [];
  /** Per trigger id: the length of the key word when the trigger ends with a key ending (see KEY_ENDINGS), else -1. */
  readonly #keyLength: number[] = [];
  /**
   * Wu–Manber shifts per bigram of raw bytes (64 KiB), every case of every trigger filled in, so
   * the scan indexes it with two bytes as they are (no folding on the hot path).
   */
  readonly #shift = new Uint8Array(1 << 16).fill(WINDOW - 1);
  /** Bucket number + 1 per hashed four bytes at the window's start (every case); 0: no trigger starts so. */
  readonly #quads = new Uint16Array(1 << 16);
  /** The same for triggers one byte into the window (after their BOUNDARY byte). */
  readonly #quadsAfter = new Uint16Array(1 << 16);
  /**
   * One bit per slot of both quad tables (8 KiB, stays in the L1 cache): most shift-0 windows
   * start no trigger, and this says so without touching the 128 KiB tables.
   */
  readonly #quadBits = new Int32Array(1 << 11);
  /** Trigger ids per bucket. */
  readonly #buckets: number[][] = [];
  readonly #ctx: DetectContext;
  /** With RegExp key rules, every `key=`/`key:` must be examined (no keyword to look for). */
  readonly #scanAllKeys: boolean;
  /** The detector whose handler runs now: read by a `push` that needs to know (the scanner); costs one store per hit. */
  #current: DetectorName = 'keyValue';

  constructor(enabled: ReadonlySet<DetectorName>, keys: KeyRules, placeholder: string) {
    this.#ctx = {
      enabled,
      keys: new KeySpanCache(keys),
      placeholder,
      lastKeyEnd: 0,
      valueKey: false,
      keyValueOn: enabled.has('keyValue'),
      paramsOn: enabled.has('keyValue') || enabled.has('urlQueryParams'),
      anyUserinfo: enabled.has('urlUserinfo'),
      dbUserinfo: enabled.has('databaseUri'),
    };
    const byWord = new Map<string, Handler[]>();
    const on = (word: string, handler: Handler) => {
      const list = byWord.get(word) ?? [];
      if (!list.includes(handler)) list.push(handler);
      byWord.set(word, list);
    };
    for (const t of TRIGGERS) if (enabled.has(t.detector)) for (const w of t.words) on(w, t.handler);
    if (enabled.size > 0) for (const w of VALUE_KEY_WORDS) on(w, valueKey);
    const keyRulesOn = enabled.has('keyValue') || enabled.has('urlQueryParams');
    let unsearchable = false;
    if (keyRulesOn) {
      for (const w of keys.keywords()) {
        if (!/^[\x00-\x7f]+$/.test(w) || w.length < 3) unsearchable = true;
        else if (w.length === 3) {
          // The word, or its plural (`apiKeys`, `API_KEYS`), at the end of a key.
          for (const end of KEY_ENDINGS) {
            on(w + end, keyValue);
            on(`${w}s${end}`, keyValue);
          }
        } else on(w, keyValue);
      }
    }
    this.#scanAllKeys = keyRulesOn && (keys.hasPatterns || unsearchable);
    const offsets = new Map<string, number>();
    for (const [word, handlers] of [...byWord]) {
      const widened = WIDENED[word];
      if (widened === undefined) continue;
      byWord.delete(word);
      for (const variant of widened.variants) {
        for (const h of handlers) on(variant, h);
        offsets.set(variant, widened.offset);
      }
    }
    const buckets = [new Map<number, number>(), new Map<number, number>()];
    for (const [word, handlers] of byWord) {
      const id = this.#words.length;
      const suffix = handlers.includes(keyValue) ? KEY_ENDINGS.filter((e) => word.endsWith(e)).sort((x, y) => y.length - x.length)[0] : undefined;
      const ending = suffix !== undefined;
      this.#words.push(word);
      this.#handlers.push(handlers);
      this.#handlerDetectors.push(handlers.map((h) => HANDLER_DETECTOR.get(h) ?? 'keyValue'));
      this.#offset.push(offsets.get(word) ?? -1);
      this.#keyLength.push(ending ? word.length - suffix.length : -1);
      // The filter pattern: byte classes, the word's (both cases) with what surrounds it.
      // Short token prefixes take the byte before them (a boundary), short key words any byte
      // before them (the key goes on to the left, or not): the window's last bigram stays the
      // telling one (`y"` of `key"`, not the `":` that ends every JSON key).
      const token = handlers.every((h) => TOKEN_HANDLERS.has(h));
      // `val"` takes any byte before it too: padded after, its window would end in `"` and a
      // byte, which every JSON key has.
      const lead = word.length < WINDOW && (token || ending || handlers.includes(valueKey)) ? 1 : 0;
      const classes: (readonly number[])[] = [...word].map((ch) => cases(foldByte(ch.charCodeAt(0))));
      if (lead === 1) classes.unshift(token ? BOUNDARY : ALL_BYTES);
      if (classes.length < WINDOW && offsets.has(word) && word.endsWith('://')) classes.push(AUTHORITY);
      while (classes.length < WINDOW) classes.push(ALL_BYTES); // (none today: a safe default)
      for (let j = 1; j < WINDOW; j++) {
        const sh = WINDOW - 1 - j;
        for (const a of classes[j - 1]!) for (const b of classes[j]!) {
          const bigram = (a << 8) | b;
          if (sh < this.#shift[bigram]!) this.#shift[bigram] = sh;
        }
      }
      const f = [0, 1, 2, 3].map((k) => foldByte(word.charCodeAt(k)));
      const table = lead === 1 ? this.#quadsAfter : this.#quads;
      for (const a of cases(f[0]!)) for (const b of cases(f[1]!)) for (const c of cases(f[2]!)) for (const d of cases(f[3]!)) {
        const slot = Math.imul((a << 24) | (b << 16) | (c << 8) | d, -1640531535) >>> 16;
        let bucket = buckets[lead]!.get(slot);
        if (bucket === undefined) {
          bucket = this.#buckets.length;
          this.#buckets.push([]);
          buckets[lead]!.set(slot, bucket);
          table[slot] = bucket + 1;
          this.#quadBits[slot >>> 5]! |= 1 << (slot & 31);
        }
        const list = this.#buckets[bucket]!;
        if (!list.includes(id)) list.push(id);
      }
    }
  }

  /** The detector that found the range being pushed (valid inside a `push` call). */
  get current(): DetectorName {
    return this.#current;
  }

  /** Whether the last {@link Detectors.detect} met a `value"`/`val"` key (see DetectContext.valueKey). */
  get valueKey(): boolean {
    return this.#ctx.valueKey;
  }

  /** True when nothing is enabled. */
  get empty(): boolean {
    return this.#words.length === 0 && !this.#scanAllKeys;
  }

  /**
   * Pushes every detected range of `text`. `bytes` is the text written as Latin-1 (triggers are
   * ASCII, so the low byte of each code unit is all the pass needs, and bytes read fast).
   */
  detect(text: string, push: Push, bytes: Uint8Array): void {
    const ctx = this.#ctx;
    ctx.lastKeyEnd = 0;
    ctx.valueKey = false;
    const n = Math.min(text.length, bytes.length);
    if (this.#words.length > 0 && n >= 4) {
      const shift = this.#shift;
      const quads = this.#quads;
      const after = this.#quadsAfter;
      const bits = this.#quadBits;
      // A token at the very start has no byte before it: look there once.
      const h = Math.imul((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!, -1640531535) >>> 16;
      if ((bits[h >>> 5]! & (1 << (h & 31))) !== 0) {
        const first = after[h]!;
        if (first !== 0) this.#hits(text, 0, this.#buckets[first - 1]!, push);
      }
      let pos = 0;
      while (pos + 5 <= n) {
        let sh: number;
        if (pos + 13 <= n) {
          // Most shifts are the largest (4): read the shifts of this window and of the windows 4
          // and 8 further on at once, and take as many steps of 4 as they allow without a branch
          // (a branch on "is it 4" would be mispredicted one time in three). The table reads
          // overlap instead of each waiting for the last, and the windows visited are exactly
          // those of one step at a time. `((x ^ 4) - 1) >>> 31` is 1 exactly when x is 4.
          const s1 = shift[(bytes[pos + 3]! << 8) | bytes[pos + 4]!]!;
          const s2 = shift[(bytes[pos + 7]! << 8) | bytes[pos + 8]!]!;
          const s3 = shift[(bytes[pos + 11]! << 8) | bytes[pos + 12]!]!;
          const e1 = ((s1 ^ 4) - 1) >>> 31;
          const e12 = e1 & (((s2 ^ 4) - 1) >>> 31);
          pos += (e1 + e12) << 2;
          sh = s1 + ((s2 - s1) & -e1) + ((s3 - s2) & -e12);
        } else sh = shift[(bytes[pos + 3]! << 8) | bytes[pos + 4]!]!;
        if (sh !== 0) {
          pos += sh;
          continue;
        }
        // 0x9e3779b1 | 0, as a literal (see Automaton.scan).
        const b1 = bytes[pos + 1]!;
        const b2 = bytes[pos + 2]!;
        const b3 = bytes[pos + 3]!;
        const h0 = Math.imul((bytes[pos]! << 24) | (b1 << 16) | (b2 << 8) | b3, -1640531535) >>> 16;
        if ((bits[h0 >>> 5]! & (1 << (h0 & 31))) !== 0) {
          const at = quads[h0]!;
          if (at !== 0) this.#hits(text, pos, this.#buckets[at - 1]!, push);
        }
        const h1 = Math.imul((b1 << 24) | (b2 << 16) | (b3 << 8) | bytes[pos + 4]!, -1640531535) >>> 16;
        if ((bits[h1 >>> 5]! & (1 << (h1 & 31))) !== 0) {
          const next = after[h1]!;
          if (next !== 0) this.#hits(text, pos + 1, this.#buckets[next - 1]!, push);
        }
        pos += 1;
      }
    }
    if (this.#scanAllKeys) {
      ctx.lastKeyEnd = 0;
      this.#current = 'keyValue';
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if ((c === 61 || c === 58) && i > 0 && isKeyChar(text.charCodeAt(i - 1))) {
          let ks = i - 1;
          while (ks > 0 && isKeyChar(text.charCodeAt(ks - 1))) ks--;
          keyValue(text, ks, i, ctx, push);
        } else if ((c === 34 || c === 39) && i > 0 && isKeyChar(text.charCodeAt(i - 1))) {
          const next = text.charCodeAt(i + 1);
          if (next === 58 || next === 61 || isSpace(next)) {
            let ks = i - 1;
            while (ks > 0 && isKeyChar(text.charCodeAt(ks - 1))) ks--;
            keyValue(text, ks, i, ctx, push);
          }
        }
      }
    }
  }

  /** Runs the handlers of the triggers (of one bucket) found at `at`. */
  #hits(text: string, at: number, ids: readonly number[], push: Push): void {
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const word = this.#words[id]!;
      if (!startsWithFolded(text, at, word)) continue;
      const handlers = this.#handlers[id]!;
      const offset = this.#offset[id]!;
      const from = offset >= 0 ? at + offset : at;
      // A widened trigger hands over the original three characters; a key word carrying what
      // follows the key, the key alone.
      const to = offset >= 0 ? at + offset + 3 : this.#keyLength[id]! >= 0 ? at + this.#keyLength[id]! : at + word.length;
      const detectors = this.#handlerDetectors[id]!;
      for (let k = 0; k < handlers.length; k++) {
        this.#current = detectors[k]!;
        handlers[k]!(text, from, to, this.#ctx, push);
      }
    }
  }
}

/** `text` has `word` (lower-case ASCII) at `at`, ignoring ASCII case. */
function startsWithFolded(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = text.charCodeAt(at + k);
    if (c >= 65 && c <= 90) c |= 32;
    if (c !== word.charCodeAt(k)) return false;
  }
  return true;
}
