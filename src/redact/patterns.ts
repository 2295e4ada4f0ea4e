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
import type { KeyRules } from './keys.js';
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
const SKIP_VALUES = new Set(['null', 'undefined', 'true', 'false', 'none', 'nil', '***', '*****', '<redacted>']);

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

/** A prefix, case-sensitive, then `min`–`max` body characters; masks the whole token. */
function token(text: string, at: number, prefix: string, body: (c: number) => boolean, min: number, max: number, push: Push): void {
  if (!text.startsWith(prefix, at) || !boundaryBefore(text, at, isB64url)) return;
  const from = at + prefix.length;
  const len = run(text, from, body, max + 1);
  if (len < min || len > max) return;
  if (from + len < text.length && isAlnum(text.charCodeAt(from + len))) return;
  push(at, from + len);
}

/** Context of one text scan, shared by the detectors. */
export interface DetectContext {
  readonly enabled: ReadonlySet<DetectorName>;
  readonly keys: KeyRules;
  readonly placeholder: string;
  /** End of the last key examined, so a key with several keywords is examined once. */
  lastKeyEnd: number;
}

type Handler = (text: string, at: number, end: number, ctx: DetectContext, push: Push) => void;

interface Trigger {
  readonly detector: DetectorName;
  readonly words: readonly string[];
  readonly handler: Handler;
}

const aws: Handler = (text, at, _end, _ctx, push) => {
  const p = text.slice(at, at + 4);
  if (p !== 'AKIA' && p !== 'ASIA' && p !== 'ABIA' && p !== 'ACCA') return;
  token(text, at, p, isUpperAlnum, 16, 16, push);
};

const github: Handler = (text, at, _end, _ctx, push) => {
  if (text.startsWith('github_pat_', at)) token(text, at, 'github_pat_', (c) => isAlnum(c) || c === 95, 22, 255, push);
  else if (/^gh[pousr]_$/.test(text.slice(at, at + 4))) token(text, at, text.slice(at, at + 4), isAlnum, 36, 255, push);
};

const slack: Handler = (text, at, end, _ctx, push) => {
  if (/^xox[abposr]-$/.test(text.slice(at, at + 5))) {
    token(text, at, text.slice(at, at + 5), (c) => isAlnum(c) || c === 45, 10, 512, push);
  } else if (text.startsWith('xapp-', at)) {
    token(text, at, 'xapp-', (c) => isAlnum(c) || c === 45, 10, 512, push);
  } else if (text.slice(at, end).toLowerCase() === 'hooks.slack.com/services/') {
    const len = run(text, end, (c) => isAlnum(c) || c === 47);
    if (len >= 8) push(end, end + len);
  }
};

const google: Handler = (text, at, _end, _ctx, push) => token(text, at, 'AIza', isB64url, 35, 35, push);

const stripe: Handler = (text, at, _end, _ctx, push) => {
  const p = text.slice(at, at + 8);
  if (p === 'sk_live_' || p === 'rk_live_') token(text, at, p, isAlnum, 10, 255, push);
};

const jwt: Handler = (text, at, _end, _ctx, push) => {
  if (!text.startsWith('eyJ', at) || !boundaryBefore(text, at, isB64url)) return;
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
  const scheme = text.slice(s, at).toLowerCase().replace(/^jdbc:/, '');
  const any = ctx.enabled.has('urlUserinfo');
  if (!any && !(ctx.enabled.has('databaseUri') && DB_SCHEMES.has(scheme))) return;
  // The authority runs to whitespace or a quote; the userinfo ends at its last '@'.
  let t = end;
  while (t < text.length) {
    const c = text.charCodeAt(t);
    if (isWs(c) || c === 34 || c === 39 || c === 60 || c === 62) break;
    t++;
  }
  const atSign = text.lastIndexOf('@', t - 1);
  if (atSign < end) return;
  const colon = text.indexOf(':', end);
  if (colon === -1 || colon >= atSign) return;
  // `host:8080/path@x` is a port and a path, not a password.
  if (/^\d{1,5}[/?#]/.test(text.slice(colon + 1, atSign))) return;
  if (!isAlnum(text.charCodeAt(atSign + 1)) && text.charCodeAt(atSign + 1) !== 91) return;
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
  const key = text.slice(ks, ke);
  const prev = ks > 0 ? text.charCodeAt(ks - 1) : -1;
  // Quoted keys: "key", 'key', and \"key\" inside an escaped JSON string.
  let quote = '';
  if (prev === 34 || prev === 39) quote = (ks > 1 && text.charCodeAt(ks - 2) === 92 ? '\\' : '') + String.fromCharCode(prev);
  let j = ke;
  if (quote !== '' && text.startsWith(quote, j)) j += quote.length;
  while (j < n && isSpace(text.charCodeAt(j))) j++;
  const sep = text.charCodeAt(j);
  if (sep !== 61 && sep !== 58) return;
  if (sep === 58 && text.charCodeAt(j + 1) === 47 && text.charCodeAt(j + 2) === 47) return;
  if (sep === 61 && (text.charCodeAt(j + 1) === 61 || text.charCodeAt(j - 1) === 33)) return;
  j++;
  const paramContext = sep === 61 && (prev === -1 || prev === 63 || prev === 38 || prev === 59 || isWs(prev));
  const sensitive =
    (ctx.enabled.has('keyValue') && ctx.keys.isSensitive(key)) ||
    (paramContext && (ctx.enabled.has('urlQueryParams') || ctx.enabled.has('keyValue')) && ctx.keys.isSensitiveParam(key));
  if (!sensitive) return;
  while (j < n && isSpace(text.charCodeAt(j))) j++;
  let vs = j;
  let ve: number;
  const c = text.charCodeAt(j);
  if (c === 34 || c === 39 || (c === 92 && text.charCodeAt(j + 1) === 34)) {
    const q = c === 92 ? text.slice(j, j + 2) : text.charAt(j);
    vs = j + q.length;
    ve = closingQuote(text, vs, q);
  } else {
    const lower = key.toLowerCase();
    const authLike = /authorization|bearer|^auth$|^x-auth/.test(lower);
    const wholeLine = authLike || lower.includes('cookie');
    if (authLike) {
      AUTH_SCHEMES.lastIndex = j;
      if (AUTH_SCHEMES.test(text)) vs = j = AUTH_SCHEMES.lastIndex;
    }
    ve = j;
    if (wholeLine) {
      while (ve < n) {
        const d = text.charCodeAt(ve);
        if (d === 10 || d === 13 || d === 34 || (quote !== '' && d === 39 && quote.endsWith("'"))) break;
        if (d === 92 && quote.startsWith('\\')) break;
        ve++;
      }
      while (ve > vs && isSpace(text.charCodeAt(ve - 1))) ve--;
    } else {
      while (ve < n && !endsValue(text.charCodeAt(ve))) ve++;
    }
  }
  if (ve <= vs) return;
  const value = text.slice(vs, ve);
  if (value === ctx.placeholder || value.startsWith(ctx.placeholder)) return;
  if (SKIP_VALUES.has(value.toLowerCase())) return;
  const first = value.charCodeAt(0);
  if (first === 123 || first === 91) return; // an object or array: its own keys decide
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return; // a URL or a ref: the URL rules decide
  push(vs, ve);
};

/**
 * The index of the quote closing a value that starts at `from`: `"` or `'` with backslash escapes,
 * or, inside an escaped JSON string, the `\"` that is not itself an escaped quote of the inner
 * string. A newline also ends the value.
 */
function closingQuote(text: string, from: number, q: string): number {
  const n = text.length;
  if (q.length === 2) {
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
  const qc = q.charCodeAt(0);
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
  const word = text.slice(at, end).toLowerCase();
  if (word === 'bearer') {
    const len = run(text, from, (c) => isAlnum(c) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47 || c === 61);
    if (len >= 8) push(from, from + len);
    return;
  }
  const len = run(text, from, (c) => isAlnum(c) || c === 43 || c === 47 || c === 61);
  if (len < 8) return;
  const decoded = Buffer.from(text.slice(from, from + len), 'base64').toString('latin1');
  if (decoded.includes(':')) push(from, from + len);
};

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

/**
 * What may follow a key word of three letters (`pwd`, `key`, `sig` …) for it to be a trigger: the
 * end of a key (a quote, a separator, a space). Longer key words trigger anywhere.
 */
const KEY_ENDINGS = ['"', "'", '=', ':', ' ', '\t', '\\'];
/**
 * Three-character triggers made four long so the skip table can hold them: `://` with the last
 * character of its scheme in front, `eyJ` with the first base64url character after it. The
 * handler still receives the position of the original three characters.
 */
const SCHEME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789+.-';
const B64URL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
const WIDENED: Readonly<Record<string, { readonly variants: readonly string[]; readonly offset: number }>> = {
  '://': { variants: [...SCHEME_CHARS].map((c) => c + '://'), offset: 1 },
  eyj: { variants: [...B64URL_CHARS].map((c) => 'eyj' + c), offset: 0 },
};

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
 * Finding the triggers is a Wu–Manber skip over the text's bytes: every trigger is at least
 * four characters, so a window of four moves by the shift its last two bytes allow in a 16 KiB
 * table — by three, mostly. Where the shift is 0, a second table
 * of hashed first-four-character groups filters again. Only where the shift is 0 are the triggers
 * starting there compared, and each hit is handed to the detectors listening to that trigger,
 * which check the exact shape. `://` and `eyJ` are widened to four characters (see WIDENED). A text
 * without any trigger costs that one skipping pass, whatever the number of detectors.
 */
export class Detectors {
  /** Handlers per trigger word (lower case). */
  readonly #handlers = new Map<string, Handler[]>();
  /** Trigger words per folded first four characters. */
  readonly #byPrefix = new Map<number, string[]>();
  /**
   * Wu–Manber shifts per bigram, 7 + 7 bits (16 KiB): each byte is indexed as `(b | 0x20) & 0x7f`,
   * which folds ASCII letters to lower case without a branch (and merges a few other bytes,
   * which can only make a shift smaller, never skip a trigger).
   */
  readonly #shift = new Uint8Array(1 << 14).fill(3);
  /** A second filter where the shift is 0: hashed first four characters of every trigger, every case. */
  readonly #quads = new Uint8Array(1 << 16);
  /** Where, in a widened trigger, the original trigger starts (see WIDENED). */
  readonly #offset = new Map<string, number>();
  readonly #ctx: DetectContext;
  /** With RegExp key rules, every `key=`/`key:` must be examined (no keyword to look for). */
  readonly #scanAllKeys: boolean;

  constructor(enabled: ReadonlySet<DetectorName>, keys: KeyRules, placeholder: string) {
    this.#ctx = { enabled, keys, placeholder, lastKeyEnd: 0 };
    const on = (word: string, handler: Handler) => {
      const list = this.#handlers.get(word) ?? [];
      if (!list.includes(handler)) list.push(handler);
      this.#handlers.set(word, list);
    };
    for (const t of TRIGGERS) if (enabled.has(t.detector)) for (const w of t.words) on(w, t.handler);
    const keyRulesOn = enabled.has('keyValue') || enabled.has('urlQueryParams');
    let unsearchable = false;
    if (keyRulesOn) {
      for (const w of keys.keywords()) {
        if (!/^[\x00-\x7f]+$/.test(w) || w.length < 3) unsearchable = true;
        else if (w.length === 3) for (const end of KEY_ENDINGS) on(w + end, keyValue);
        else on(w, keyValue);
      }
    }
    this.#scanAllKeys = keyRulesOn && (keys.hasPatterns || unsearchable);
    for (const [word, handlers] of [...this.#handlers]) {
      const widened = WIDENED[word];
      if (widened === undefined) continue;
      this.#handlers.delete(word);
      for (const variant of widened.variants) {
        for (const h of handlers) on(variant, h);
        this.#offset.set(variant, widened.offset);
      }
    }
    for (const word of this.#handlers.keys()) {
      const f = [0, 1, 2, 3].map((k) => foldByte(word.charCodeAt(k)));
      const pack = (f[0]! << 21) | (f[1]! << 14) | (f[2]! << 7) | f[3]!;
      const list = this.#byPrefix.get(pack) ?? [];
      list.push(word);
      this.#byPrefix.set(pack, list);
      for (let j = 1; j < 4; j++) {
        const bigram = (((f[j - 1]! | 0x20) & 0x7f) << 7) | ((f[j]! | 0x20) & 0x7f);
        this.#shift[bigram] = Math.min(this.#shift[bigram]!, 3 - j);
      }
      for (const a of cases(f[0]!)) for (const b of cases(f[1]!)) for (const c of cases(f[2]!)) for (const d of cases(f[3]!)) {
        this.#quads[Math.imul((a << 24) | (b << 16) | (c << 8) | d, -1640531535) >>> 16] = 1;
      }
    }
  }

  /** True when nothing is enabled. */
  get empty(): boolean {
    return this.#handlers.size === 0 && !this.#scanAllKeys;
  }

  /**
   * Pushes every detected range of `text`. `bytes` is the text written as Latin-1 (triggers are
   * ASCII, so the low byte of each code unit is all the pass needs, and bytes read fast).
   */
  detect(text: string, push: Push, bytes: Uint8Array): void {
    const ctx = this.#ctx;
    ctx.lastKeyEnd = 0;
    if (this.#handlers.size > 0) {
      const shift = this.#shift;
      const quads = this.#quads;
      const n = Math.min(text.length, bytes.length);
      let pos = 0;
      while (pos + 4 <= n) {
        // ORing 0x20 folds 'A'..'Z' onto 'a'..'z' without a branch (see #shift).
        const sh = shift[(((bytes[pos + 2]! | 0x20) & 0x7f) << 7) | ((bytes[pos + 3]! | 0x20) & 0x7f)]!;
        if (sh !== 0) {
          pos += sh;
          continue;
        }
        const raw = (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
        // 0x9e3779b1 | 0, as a literal (see Automaton.scan).
        if (quads[Math.imul(raw, -1640531535) >>> 16] !== 0) {
          const pack = (foldByte(bytes[pos]!) << 21) | (foldByte(bytes[pos + 1]!) << 14) | (foldByte(bytes[pos + 2]!) << 7) | foldByte(bytes[pos + 3]!);
          const words = this.#byPrefix.get(pack);
          if (words !== undefined) this.#hits(text, pos, words, push);
        }
        pos += 1;
      }
    }
    if (this.#scanAllKeys) {
      ctx.lastKeyEnd = 0;
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

  /** Runs the handlers of the triggers (sharing their first four characters) found at `at`. */
  #hits(text: string, at: number, words: readonly string[], push: Push): void {
    for (const word of words) {
      if (!startsWithFolded(text, at, word)) continue;
      const handlers = this.#handlers.get(word)!;
      const offset = this.#offset.get(word);
      if (offset !== undefined) {
        // A widened trigger: hand over the original three characters.
        for (const h of handlers) h(text, at + offset, at + offset + 3, this.#ctx, push);
      } else if (word.length === 4 && KEY_ENDINGS.includes(word.charAt(3))) {
        // A three-letter key word carries the character after the key; the key ends before it.
        for (const h of handlers) h(text, at, at + 3, this.#ctx, push);
      } else {
        for (const h of handlers) h(text, at, at + word.length, this.#ctx, push);
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
