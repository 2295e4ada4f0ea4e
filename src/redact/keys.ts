/**
 * Key-name rules: which property names, header names and query parameters hold secrets,
 * whatever their value. Matching ignores case and style: `dbPassword`, `DB_PASSWORD`,
 * `db-password` and `dbpassword` all match the rule `password`.
 *
 * @module
 */

/**
 * The built-in sensitive key words. A key matches a rule when the rule's words appear in the
 * key's words in a row (`dbPasswordHash` matches `password`), or when the key, with separators
 * removed, ends with the rule (`XAPIKEY` matches `api_key`) — unless the key's last word says the
 * value is about the secret rather than the secret itself (`tokenType`, `secretName`,
 * `privateKeyId`, `passwordExpiresAt`; the list is `NON_SECRET_LAST_WORDS` in the source).
 */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'api_key',
  'apikey',
  'access_key',
  'secret_key',
  'private_key',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'session_token',
  'authorization',
  'proxy_authorization',
  'client_secret',
  'cookie',
  'set-cookie',
  'credential',
  'credentials',
  'connection_string',
  'dsn',
  'signature',
  'account_key',
  'sas_token',
  'jwt',
  'bearer',
  'encryption_key',
  'signing_key',
  'master_key',
];

/**
 * Query parameters masked in URLs and form bodies (`?token=…`, `&sig=…`), on top of every name
 * that matches a sensitive key rule.
 */
export const DEFAULT_SENSITIVE_PARAMS: readonly string[] = [
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'sig',
  'signature',
  'password',
  'passwd',
  'pwd',
  'key',
  'api_key',
  'apikey',
  'secret',
  'client_secret',
  'code_verifier',
  'x-amz-signature',
  'x-amz-security-token',
  'x-amz-credential',
  'x-goog-signature',
  'x-goog-credential',
  'sessionid',
];

/** A key whose last word is one of these describes a secret without being one. */
const NON_SECRET_LAST_WORDS: ReadonlySet<string> = new Set([
  'id', 'ids', 'ref', 'refs', 'name', 'names', 'type', 'types', 'kind', 'count', 'length', 'len',
  'size', 'version', 'versions', 'expires', 'expiry', 'expiration', 'ttl', 'at', 'path', 'file',
  'url', 'uri', 'endpoint', 'provider', 'policy', 'hint', 'enabled', 'required', 'rotation',
  'format', 'algorithm', 'alg', 'field', 'fields', 'source', 'env', 'location', 'exists',
  'present', 'configured', 'mode', 'scope', 'scopes', 'timeout', 'age', 'lifetime', 'manager',
  'store', 'arn', 'label', 'labels', 'owner', 'purpose', 'sensitivity', 'changed', 'updated',
  'created', 'rotated', 'valid', 'invalid', 'missing', 'status', 'error', 'errors', 'prefix',
]);

/** Splits a key into lower-case words: camelCase, PascalCase, snake_case, kebab-case, dots, spaces. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Words that make the best keyword of a rule, most telling first. */
const STRONG_WORDS = [
  'password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'cookie', 'credentials', 'credential',
  'authorization', 'signature', 'sig', 'dsn', 'jwt', 'bearer', 'apikey', 'sessionid', 'auth', 'verifier', 'key',
];

/**
 * Built-in words whose values are masked whatever they look like (except a status word such as
 * `expired`): a password can be an ordinary word. Every other built-in rule masks only values
 * that look like credentials (see {@link looksLikeCredential}), so `token: expired`,
 * `signature: valid` and `key=users_pkey` stay readable. Rules added by the user are strict.
 */
const STRICT_WORDS: ReadonlySet<string> = new Set(['password', 'passwd', 'pwd', 'passphrase', 'cookie', 'authorization']);

/**
 * Words in front of a plural `tokens` that make it a count (`max_tokens`, `totalTokens`, the
 * usage fields of LLM APIs), not a list of credentials. A bare `tokens` is a list of credentials
 * (issue 10 names it); in text its value is masked only when it looks like one, so `tokens: 1234` stays.
 */
const COUNT_WORDS: ReadonlySet<string> = new Set([
  'max', 'min', 'total', 'prompt', 'completion', 'input', 'output', 'num', 'number', 'used', 'remaining', 'cached',
  'reasoning', 'billed', 'context', 'n', 'estimated', 'available', 'limit', 'consumed', 'generated',
]);

/** Not sensitive. */
export const KEY_PLAIN = 0;
/** Sensitive: values that look like credentials are masked (see {@link looksLikeCredential}). */
export const KEY_SHAPED = 1;
/** Sensitive: every value is masked except a status word (see {@link isStatusWord}). */
export const KEY_STRICT = 2;
/** How a key's value is treated: {@link KEY_PLAIN}, {@link KEY_SHAPED} or {@link KEY_STRICT}. */
export type KeyClass = typeof KEY_PLAIN | typeof KEY_SHAPED | typeof KEY_STRICT;

interface WordRule {
  readonly words: readonly string[];
  readonly joined: string;
  readonly strict: boolean;
}

const CACHE_LIMIT = 8192;

/**
 * Decides whether a key names a secret. Results are cached per key string.
 */
export class KeyRules {
  readonly #rules: WordRule[] = [];
  readonly #patterns: RegExp[] = [];
  readonly #params: Map<string, KeyClass>;
  readonly #cache = new Map<string, KeyClass>();
  readonly #paramCache = new Map<string, KeyClass>();

  /**
   * @param rules - built-in style rules (words; strict when their words include a password-like word)
   * @param params - query-parameter names
   * @param extraRules - the user's rules (words or RegExps): always strict
   * @param extraParams - the user's parameter names: always strict
   */
  constructor(rules: readonly (string | RegExp)[], params: readonly string[], extraRules: readonly (string | RegExp)[] = [], extraParams: readonly string[] = []) {
    const addRule = (rule: string | RegExp, strictAlways: boolean) => {
      if (typeof rule === 'string') {
        const words = keyWords(rule);
        if (words.length > 0) this.#rules.push({ words, joined: words.join(''), strict: strictAlways || words.some((w) => STRICT_WORDS.has(w)) });
      } else {
        this.#patterns.push(new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')));
      }
    };
    for (const rule of rules) addRule(rule, false);
    for (const rule of extraRules) addRule(rule, true);
    this.#params = new Map();
    for (const p of params) {
      const lower = p.toLowerCase();
      if (!this.#params.has(lower)) this.#params.set(lower, keyWords(p).some((w) => STRICT_WORDS.has(w)) ? KEY_STRICT : KEY_SHAPED);
    }
    for (const p of extraParams) this.#params.set(p.toLowerCase(), KEY_STRICT);
  }

  /** Whether rules given as RegExps exist (they cannot be found by keyword). */
  get hasPatterns(): boolean {
    return this.#patterns.length > 0;
  }

  /**
   * Keywords that every key matched by a word rule contains (lower case): per rule, its most
   * telling word (`client_secret` → `secret`), else its longest. A text scan looks for these
   * before it examines a whole key.
   */
  keywords(): string[] {
    const out = new Set<string>();
    const pick = (words: readonly string[]): string => {
      for (const strong of STRONG_WORDS) if (words.includes(strong)) return strong;
      const longest = words.reduce((a, b) => (b.length >= a.length ? b : a), '');
      return longest.length >= 3 ? longest : words.join('');
    };
    for (const r of this.#rules) out.add(pick(r.words));
    for (const p of this.#params.keys()) {
      const words = keyWords(p);
      if (words.length > 0) out.add(pick(words));
    }
    return [...out];
  }

  /** True when `key` names a secret. */
  isSensitive(key: string): boolean {
    return this.classify(key) !== KEY_PLAIN;
  }

  /** How the value under `key` is treated. Cached per key. */
  classify(key: string): KeyClass {
    let hit = this.#cache.get(key);
    if (hit === undefined) {
      hit = this.#compute(key);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(key, hit);
    }
    return hit;
  }

  /** True when `name` is a sensitive query parameter (the param list, or a sensitive key). */
  isSensitiveParam(name: string): boolean {
    return this.classifyParam(name) !== KEY_PLAIN;
  }

  /** How the value of the query parameter `name` is treated (the stricter of its param and key classes). */
  classifyParam(name: string): KeyClass {
    let hit = this.#paramCache.get(name);
    if (hit === undefined) {
      const asParam = this.#params.get(name.toLowerCase()) ?? KEY_PLAIN;
      const asKey = this.classify(name);
      hit = asParam > asKey ? asParam : asKey;
      if (this.#paramCache.size >= CACHE_LIMIT) this.#paramCache.clear();
      this.#paramCache.set(name, hit);
    }
    return hit;
  }

  #compute(key: string): KeyClass {
    for (const re of this.#patterns) if (re.test(key)) return KEY_STRICT;
    const words = keyWords(key);
    if (words.length === 0) return KEY_PLAIN;
    const last = words[words.length - 1]!;
    const joined = words.join('');
    let found: KeyClass = KEY_PLAIN;
    for (const rule of this.#rules) {
      if (found === KEY_STRICT || (found === KEY_SHAPED && !rule.strict)) continue;
      if (this.#matches(rule, words, last, joined)) found = rule.strict ? KEY_STRICT : KEY_SHAPED;
    }
    return found;
  }

  #matches(rule: WordRule, words: readonly string[], last: string, joined: string): boolean {
    const rw = rule.words;
    // The rule's words in a row, ending at word index e; the rule's last word may be plural there
    // (`apiKeys`, `clientSecrets`, `PRIVATE_KEYS`, `refresh-tokens`).
    for (let e = rw.length - 1; e < words.length; e++) {
      let ok = true;
      let plural = false;
      for (let k = 0; k < rw.length; k++) {
        const w = words[e - rw.length + 1 + k]!;
        if (w === rw[k]) continue;
        if (k === rw.length - 1 && w.length === rw[k]!.length + 1 && w.endsWith('s') && w.startsWith(rw[k]!)) {
          plural = true;
          continue;
        }
        ok = false;
        break;
      }
      if (!ok) continue;
      // `max_tokens`, `totalTokens`: counts, not credentials.
      if (plural && rw.length === 1 && rw[0] === 'token' && e > 0 && COUNT_WORDS.has(words[e - 1]!)) continue;
      if (e === words.length - 1 || !NON_SECRET_LAST_WORDS.has(last)) return true;
    }
    // Run-together spellings (`XAPIKEY`, `mypassword`, `APIKEYS`): the rule is at the end, so the
    // last word is part of it and cannot be a describing word. A run-together `tokens` stays a count.
    if (joined.endsWith(rule.joined)) return true;
    if (joined.endsWith(rule.joined + 's') && rule.joined !== 'token') return true;
    return false;
  }
}

/** Status words that say something about a secret without being one (`token: expired`). */
const STATUS_WORDS: readonly string[] = [
  'null', 'undefined', 'true', 'false', 'none', 'nil', 'n/a', 'na', '***', '*****', '<redacted>', 'redacted', 'masked',
  'hidden', 'set', 'unset', 'not-set', 'notset', 'empty', 'missing', 'absent', 'present', 'found', 'provided',
  'configured', 'required', 'optional', 'expired', 'valid', 'invalid', 'ok', 'yes', 'no', 'changed', 'updated',
  'rotated', 'reset', 'ignored', 'skipped', 'loaded', 'accepted', 'rejected', 'denied', 'revoked', 'pending',
  'unknown', 'refreshed', 'stored', 'saved', 'cleared', 'omitted', 'enabled', 'disabled', 'supplied', 'verified',
  'unverified', 'matched', 'mismatch', 'wrong', 'incorrect', 'correct', 'ready', 'renewed', 'issued', 'cached',
];
/** STATUS_WORDS by length, for a compare without slicing or lower-casing. */
const STATUS_BY_LENGTH: readonly (readonly string[])[] = (() => {
  const out: string[][] = [];
  for (const w of STATUS_WORDS) (out[w.length] ??= []).push(w);
  return out;
})();

/** `text[from, to)` is a status word (any ASCII case): `expired`, `none`, `configured` … */
export function isStatusWord(text: string, from: number, to: number): boolean {
  const list = STATUS_BY_LENGTH[to - from];
  if (list === undefined) return false;
  outer: for (const w of list) {
    for (let k = 0; k < w.length; k++) {
      let c = text.charCodeAt(from + k);
      if (c >= 65 && c <= 90) c |= 32;
      if (c !== w.charCodeAt(k)) continue outer;
    }
    return true;
  }
  return false;
}

/** Longest run of letters that can still be a word (`unauthenticated` is 15). */
const MAX_WORD = 16;

/**
 * Whether `text[from, to)` looks like a credential rather than words or an identifier. It is
 * *not* a credential when it is made of segments separated by `_ - . : / , @`, spaces or `; ! ? ( ) '`, each
 * of which is a word (lower-case, Capitalised or UPPER-case letters, at most 16 of them,
 * optionally followed by one or two digits: `users_pkey`, `orders_v2`, `Expired`) or a short
 * number (`user:42`, `2026-01-01`, `part-00002`; a number alone is a credential from five
 * digits on). Anything else — mixed case inside a run, letters and digits interleaved, other punctuation (`+ / = % ~`), a
 * status word excepted — looks like a credential. Reads code units only: no slicing, no RegExp.
 */
export function looksLikeCredential(text: string, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isSeparator(c)) {
      i++;
      continue;
    }
    const s = i;
    if (isDigit(c)) {
      while (i < to && isDigit(text.charCodeAt(i))) i++;
      // A number alone longer than four digits may be a PIN or a one-time code; inside a path or
      // a name (`part-00002`, `2026/01/06`) numbers are counters, up to twelve digits.
      if (i - s > 12 || (i - s > 4 && s === from && i === to)) return true;
    } else if (isLetter(c)) {
      let uppers = 0;
      while (i < to && isLetter(text.charCodeAt(i))) {
        if (text.charCodeAt(i) <= 90) uppers++;
        i++;
      }
      const len = i - s;
      if (len > MAX_WORD) return true;
      // lower, UPPER or Capitalised; anything else is mixed case inside a run.
      if (uppers !== 0 && uppers !== len && !(uppers === 1 && c <= 90)) return true;
      const ds = i;
      while (i < to && isDigit(text.charCodeAt(i))) i++;
      if (i - ds > 2) return true;
    } else {
      return true;
    }
    // A segment ends at a separator or the end: `a1b` (letters, digits, letters) is interleaved.
    if (i < to && !isSeparator(text.charCodeAt(i))) return true;
  }
  return false;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** `_ - . : / , @`, space, and the punctuation of a sentence in a quoted value: `; ! ? ( ) '`. */
const isSeparator = (c: number): boolean =>
  c === 95 || c === 45 || c === 46 || c === 58 || c === 47 || c === 44 || c === 64 || c === 32 || c === 59 || c === 33 || c === 63 || c === 40 || c === 41 || c === 39;

/** {@link KeySpanCache.lookup} bits: the key class (0–2), the param class (shifted by 2), and: */
export const SPAN_WHOLE_LINE = 16;
/** …the key takes an auth scheme in front of its value (`Authorization: Bearer …`). */
export const SPAN_AUTH = 32;

const SPAN_SLOTS = 4096;

/**
 * The classes of keys met in text, cached by the span of text they occupy, so a scan that meets a
 * known key again reads its characters once (to hash and compare them) and slices, lower-cases
 * and tests nothing. Direct-mapped: a colliding key evicts the older one; nothing grows.
 */
export class KeySpanCache {
  readonly #rules: KeyRules;
  readonly #hash = new Int32Array(SPAN_SLOTS);
  readonly #keys: (string | undefined)[] = new Array<string | undefined>(SPAN_SLOTS).fill(undefined);
  readonly #bits = new Uint8Array(SPAN_SLOTS);

  constructor(rules: KeyRules) {
    this.#rules = rules;
  }

  /** The class bits of the key `text[from, to)`: `keyClass | paramClass << 2 | SPAN_WHOLE_LINE | SPAN_AUTH`. */
  lookup(text: string, from: number, to: number): number {
    let h = -2128831035; // FNV-1a offset basis
    for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    const slot = (h ^ (h >>> 15)) & (SPAN_SLOTS - 1);
    const known = this.#keys[slot];
    if (known !== undefined && this.#hash[slot] === h && known.length === to - from) {
      let same = true;
      for (let k = 0; k < known.length; k++) {
        if (known.charCodeAt(k) !== text.charCodeAt(from + k)) {
          same = false;
          break;
        }
      }
      if (same) return this.#bits[slot]!;
    }
    // First meeting (or evicted): classify the key once.
    const key = text.slice(from, to);
    const lower = key.toLowerCase();
    const auth = /authorization|bearer|^auth$|^x-auth/.test(lower);
    const bits = this.#rules.classify(key) | (this.#rules.classifyParam(key) << 2) | (auth || lower.includes('cookie') ? SPAN_WHOLE_LINE : 0) | (auth ? SPAN_AUTH : 0);
    this.#keys[slot] = key;
    this.#hash[slot] = h;
    this.#bits[slot] = bits;
    return bits;
  }
}
