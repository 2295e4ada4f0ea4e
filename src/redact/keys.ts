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

interface WordRule {
  readonly words: readonly string[];
  readonly joined: string;
}

const CACHE_LIMIT = 8192;

/**
 * Decides whether a key names a secret. Results are cached per key string.
 */
export class KeyRules {
  readonly #rules: WordRule[] = [];
  readonly #patterns: RegExp[] = [];
  readonly #params: Set<string>;
  readonly #cache = new Map<string, boolean>();
  readonly #paramCache = new Map<string, boolean>();

  constructor(rules: readonly (string | RegExp)[], params: readonly string[]) {
    for (const rule of rules) {
      if (typeof rule === 'string') {
        const words = keyWords(rule);
        if (words.length > 0) this.#rules.push({ words, joined: words.join('') });
      } else {
        this.#patterns.push(new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')));
      }
    }
    this.#params = new Set(params.map((p) => p.toLowerCase()));
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
    for (const p of this.#params) {
      const words = keyWords(p);
      if (words.length > 0) out.add(pick(words));
    }
    return [...out];
  }

  /** True when `key` names a secret. */
  isSensitive(key: string): boolean {
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
    let hit = this.#paramCache.get(name);
    if (hit === undefined) {
      hit = this.#params.has(name.toLowerCase()) || this.isSensitive(name);
      if (this.#paramCache.size >= CACHE_LIMIT) this.#paramCache.clear();
      this.#paramCache.set(name, hit);
    }
    return hit;
  }

  #compute(key: string): boolean {
    for (const re of this.#patterns) if (re.test(key)) return true;
    const words = keyWords(key);
    if (words.length === 0) return false;
    const last = words[words.length - 1]!;
    const joined = words.join('');
    for (const rule of this.#rules) {
      const rw = rule.words;
      // The rule's words in a row, ending at word index e.
      for (let e = rw.length - 1; e < words.length; e++) {
        let ok = true;
        for (let k = 0; k < rw.length; k++) {
          if (words[e - rw.length + 1 + k] !== rw[k]) {
            ok = false;
            break;
          }
        }
        if (ok && (e === words.length - 1 || !NON_SECRET_LAST_WORDS.has(last))) return true;
      }
      // Run-together spellings (`XAPIKEY`, `mypassword`): the rule is at the end, so the last
      // word is part of it and cannot be a describing word.
      if (joined.endsWith(rule.joined)) return true;
    }
    return false;
  }
}
