import type { Transform } from 'node:stream';
import { ConfigError } from '../errors.js';
import { DEFAULT_PLACEHOLDER, Secret } from '../secret.js';
import { Automaton } from './automaton.js';
import { basicAuthForms, deriveBinaryForms, deriveForms, utf8Text } from './derive.js';
import { redactErrorCopy } from './error.js';
import { DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PARAMS, KeyRules } from './keys.js';
import { DEFAULT_ALLOWLIST, DETECTOR_NAMES, redactorOptionsSchema, type DetectorName, type RedactorOptions, type RedactorWarning } from './options.js';
import { Detectors } from './patterns.js';
import { Ranges } from './ranges.js';
import { createRedactStream, type RedactStreamOptions } from './stream.js';
import { REDACTION_FAILED, redactDeep } from './value.js';
import { wrapConsole, wrapProcessOutput, type WrapConsoleOptions, type WrapProcessOutputOptions } from './wrap.js';
import { describeIssues } from '../issues.js';

/**
 * Options of {@link Redactor.add}.
 *
 * @example
 * ```ts
 * redactor.add(apiToken, { ref: 'env://ORDERS_API_TOKEN' });
 * ```
 */
export interface RedactAddOptions {
  /** The ref the value came from; warnings name it (never the value). */
  readonly ref?: string;
}

/**
 * Masks secrets in text, values, errors and streams. Made by {@link createRedactor}; every
 * secrets client has one (`secrets.redactor`) that already knows every value its providers
 * returned.
 *
 * @example
 * ```ts
 * const redactor = createRedactor();
 * redactor.add(password, { ref: 'env://DB_PASSWORD' });
 * redactor.redact(`connecting with ${password}`); // 'connecting with [REDACTED]'
 * ```
 */
export interface Redactor {
  /** What masked text becomes. */
  readonly placeholder: string;
  /** Number of registered patterns: values, their lines and fields, and their derived forms. */
  readonly size: number;
  /**
   * Registers a value so that it is masked from now on, with its derived forms (base64 and
   * base64url in every alignment, URL-encoded, JSON-escaped, util.inspect-escaped …). A JSON
   * text also registers each of its string and number fields (and `user:password` Basic-auth
   * tokens when it has username and password fields); a multi-line text also registers each
   * line; bytes also register their hex and base64 forms; a number or bigint registers its
   * decimal text, a String object the text it holds. Values shorter than `minLength`, empty or whitespace-only values and
   * allowlisted words are not registered (the first two kinds with a warning naming the ref).
   * The cost is proportional to the value's length.
   *
   * @returns true when something was registered.
   * @example
   * ```ts
   * redactor.add('{"username":"etl","password":"…"}', { ref: 'vault://kv/orders-db' });
   * ```
   */
  add(value: unknown, options?: RedactAddOptions): boolean;
  /**
   * Masks every registered value (the union of all overlapping occurrences, so no part of any
   * secret survives) and everything the detectors find; all other text is kept exactly.
   * Never throws.
   * @example
   * ```ts
   * redactor.redact('GET https://api.example.com/v1?token=abc123xyz'); // '…?token=[REDACTED]'
   * ```
   */
  redact(text: string): string;
  /**
   * A redacted deep copy of any value: strings are redacted, values under sensitive keys
   * (`password`, `apiKey`, `Authorization` …) become the placeholder; objects, arrays, Maps,
   * Sets, Buffers, class instances and errors are copied; cycles become `'[Circular]'`, values
   * deeper than `maxDepth` `'[Depth limit]'`. Never throws: on an internal failure it returns
   * `'<redaction-failed>'`.
   * @example
   * ```ts
   * log.info(redactor.redactValue({ user, headers: req.headers }));
   * ```
   */
  redactValue(value: unknown): unknown;
  /**
   * A redacted copy of an error, with the same prototype: message, stack, the `cause` chain,
   * `AggregateError.errors` and every own property. Non-errors go through
   * {@link Redactor.redactValue}. Never throws.
   * @example
   * ```ts
   * catch (err) { console.error(secrets.redactor.redactError(err)); }
   * ```
   */
  redactError<E>(err: E): E;
  /**
   * A Transform stream that redacts what flows through it, across chunk boundaries: its output
   * is `redact(whole input)` however the input is split. With detectors off it holds back at
   * most the longest registered pattern's length minus one character; with detectors on it
   * holds back the unfinished last line (at most 64 KiB, beyond which it cuts anyway).
   * @example
   * ```ts
   * child.stdout.pipe(secrets.redactor.createRedactStream()).pipe(process.stdout);
   * ```
   */
  createRedactStream(options?: RedactStreamOptions): Transform;
  /**
   * Makes `console.log`, `info`, `warn`, `error`, `debug`, `trace`, `dir`, `dirxml`, `table` and
   * `assert` redact their arguments. Returns the function that undoes it.
   * @example
   * ```ts
   * const undo = secrets.redactor.wrapConsole();
   * ```
   */
  wrapConsole(options?: WrapConsoleOptions): () => void;
  /**
   * Makes `process.stdout.write` and `process.stderr.write` redact what they are given (each
   * write on its own). Returns the function that undoes it.
   * @example
   * ```ts
   * const undo = secrets.redactor.wrapProcessOutput();
   * ```
   */
  wrapProcessOutput(options?: WrapProcessOutputOptions): () => void;
  /**
   * Whether a property, header or field name holds secrets by the key-name rules.
   * @example
   * ```ts
   * redactor.isSensitiveKey('X-Api-Key'); // true
   * ```
   */
  isSensitiveKey(key: string): boolean;
}

const USERNAME_KEYS = ['username', 'user', 'login', 'userName', 'user_name'];
const PASSWORD_KEYS = ['password', 'pass', 'passwd', 'pwd'];
const PEM_ARMOUR = /^-{5}(BEGIN|END) [A-Z0-9 ]+-{5}$/;
const MAX_JSON_DEPTH = 32;
/** Texts longer than this get a one-off Latin-1 buffer instead of growing the scratch one. */
const MAX_SCRATCH = 1 << 20;

/**
 * Creates a redactor. Every secrets client already has one (`secrets.redactor`); create your own
 * for code that has no client.
 *
 * @throws {@link ConfigError} when the options are invalid.
 * @example
 * ```ts
 * const redactor = createRedactor({ minLength: 8 });
 * redactor.add(process.env.API_TOKEN, { ref: 'env://API_TOKEN' });
 * process.stdout.write(redactor.redact(line));
 * ```
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const checked = redactorOptionsSchema.safeParse(options);
  if (!checked.success) {
    const why = describeIssues(checked.error.issues, '(options)');
    throw new ConfigError(`invalid redactor options: ${why}`);
  }
  return new RedactorCore(options);
}

/** The implementation; the stream and wrappers use its lower-level methods. */
class RedactorCore implements Redactor {
  readonly placeholder: string;
  readonly minLength: number;
  readonly maxLength: number;
  readonly maxDepth: number;
  readonly #matcher = new Automaton();
  readonly #keys: KeyRules;
  readonly #detectors: Detectors;
  readonly #allow: ReadonlySet<string>;
  readonly #onWarning: (w: RedactorWarning) => void;
  readonly #warned = new Set<string>();
  readonly #ranges = new Ranges();
  #scratch = Buffer.allocUnsafe(4096);
  #target: Ranges = this.#ranges;
  readonly #push = (start: number, end: number): void => this.#target.push(start, end);

  constructor(options: RedactorOptions) {
    this.placeholder = options.placeholder ?? DEFAULT_PLACEHOLDER;
    this.minLength = options.minLength ?? 5;
    this.maxLength = options.maxLength ?? 16_384;
    this.maxDepth = options.maxDepth ?? 32;
    this.#allow = new Set((options.allowlist ?? DEFAULT_ALLOWLIST).map((w) => w.trim().toLowerCase()));
    this.#onWarning = options.onWarning ?? defaultWarning;
    this.#keys = new KeyRules(
      options.defaultSensitiveKeys === false ? [] : DEFAULT_SENSITIVE_KEYS,
      DEFAULT_SENSITIVE_PARAMS,
      options.sensitiveKeys ?? [],
      options.sensitiveParams ?? [],
    );
    const enabled = new Set<DetectorName>();
    if (options.detectors !== false) {
      for (const name of DETECTOR_NAMES) if (options.detectors?.[name] !== false) enabled.add(name);
    }
    this.#detectors = new Detectors(enabled, this.#keys, this.placeholder);
  }

  get size(): number {
    return this.#matcher.size;
  }

  /** Length of the longest registered pattern. */
  get longest(): number {
    return this.#matcher.longest;
  }

  /** Whether any detector is on. */
  get detecting(): boolean {
    return !this.#detectors.empty;
  }

  /**
   * After `redact`: whether the text had a `value"`/`val"` key (any case), found by the detector
   * pass; `undefined` when the detectors are off and the caller must look itself.
   */
  get valueKeySeen(): boolean | undefined {
    return this.#detectors.empty ? undefined : this.#detectors.valueKey;
  }

  add(value: unknown, options: RedactAddOptions = {}): boolean {
    try {
      return this.#add(value, options.ref, 0);
    } catch {
      return false;
    }
  }

  #add(value: unknown, ref: string | undefined, depth: number): boolean {
    if (typeof value === 'string') return this.#addText(value, ref, depth);
    if (typeof value === 'number' || typeof value === 'bigint') return this.#addNumber(value, ref);
    if (value instanceof Uint8Array) return this.#addBytes(value, ref);
    if (value instanceof Secret) return false;
    // `new String(secret)`, a String subclass, a boxed number: the primitive they hold.
    if (value instanceof String || value instanceof Number || value instanceof BigInt) return this.#add(value.valueOf(), ref, depth);
    if (typeof value === 'object' && value !== null) return this.#addFields(value, ref, depth);
    return false;
  }

  #addText(text: string, ref: string | undefined, depth: number): boolean {
    const trimmed = text.trim();
    if (trimmed === '') return false;
    if (this.#allow.has(trimmed.toLowerCase())) {
      this.#warn('COMMON_WORD', ref, `a value of ${name(ref)} is on the common-words allowlist and is not masked`);
      return false;
    }
    if (trimmed.length < this.minLength) {
      this.#warn('SHORT_VALUE', ref, `a value of ${name(ref)} is shorter than ${this.minLength} characters and is not masked`);
      return false;
    }
    let added = false;
    if (text.length <= this.maxLength) {
      added = this.#addForms(text) || added;
      if (trimmed !== text) added = this.#addForms(trimmed) || added;
    } else {
      this.#warn('LONG_VALUE', ref, `a value of ${name(ref)} is longer than ${this.maxLength} characters; only its lines are masked`);
    }
    if (/[\r\n]/.test(text)) {
      for (const raw of text.split(/\r?\n|\r/)) {
        const line = raw.trim();
        if (line.length < this.minLength || line.length > this.maxLength || PEM_ARMOUR.test(line) || this.#allow.has(line.toLowerCase())) continue;
        added = this.#addForms(line) || added;
      }
    }
    const first = trimmed.charCodeAt(0);
    if ((first === 123 || first === 91) && depth < MAX_JSON_DEPTH) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed === 'object' && parsed !== null) added = this.#addFields(parsed, ref, depth + 1) || added;
    }
    return added;
  }

  /** Each string field, recursively, named `ref#path`; plus Basic-auth tokens of username/password pairs. */
  #addFields(node: object, ref: string | undefined, depth: number, path = ''): boolean {
    if (depth > MAX_JSON_DEPTH) return false;
    let added = false;
    const entries: [string, unknown][] = Array.isArray(node)
      ? node.map((v, i) => [String(i), v])
      : node instanceof Map
        ? [...node.entries()].map(([k, v]) => [String(k), v])
        : Object.entries(node);
    for (const [key, v] of entries) {
      const p = path === '' ? key : `${path}.${key}`;
      const fieldRef = ref === undefined ? undefined : `${ref}#${p}`;
      if (typeof v === 'string') added = this.#addText(v, fieldRef, depth + 1) || added;
      else if (typeof v === 'number' || typeof v === 'bigint') added = this.#addNumber(v, fieldRef) || added;
      else if (v instanceof Uint8Array) added = this.#addBytes(v, fieldRef) || added;
      else if (typeof v === 'object' && v !== null && !(v instanceof Secret)) added = this.#addFields(v, ref, depth + 1, p) || added;
    }
    if (!Array.isArray(node) && !(node instanceof Map)) {
      const record = node as Record<string, unknown>;
      const user = USERNAME_KEYS.map((k) => record[k]).find((v): v is string => typeof v === 'string');
      const pass = PASSWORD_KEYS.map((k) => record[k]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
      if (user !== undefined && pass !== undefined && pass.trim().length >= this.minLength) {
        for (const token of basicAuthForms(user, pass)) added = this.#matcher.add(token) || added;
      }
    }
    return added;
  }

  /** A number's decimal form (an account number, a PIN): a text like any other, so minLength applies. */
  #addNumber(value: number | bigint, ref: string | undefined): boolean {
    if (typeof value === 'number' && !Number.isFinite(value)) return false;
    return this.#addText(String(value), ref, 0);
  }

  #addBytes(bytes: Uint8Array, ref: string | undefined): boolean {
    if (bytes.byteLength === 0) return false;
    if (bytes.byteLength < this.minLength) {
      this.#warn('SHORT_VALUE', ref, `a value of ${name(ref)} is shorter than ${this.minLength} bytes and is not masked`);
      return false;
    }
    if (bytes.byteLength > this.maxLength) {
      this.#warn('LONG_VALUE', ref, `a value of ${name(ref)} is longer than ${this.maxLength} bytes and is not masked`);
      return false;
    }
    const text = utf8Text(bytes);
    if (text !== undefined && (text.trim() === '' || this.#allow.has(text.trim().toLowerCase()))) return false;
    let added = false;
    for (const form of deriveBinaryForms(bytes, this.minLength)) added = this.#matcher.add(form.text) || added;
    if (text !== undefined && /[\r\n{[]/.test(text)) added = this.#addText(text, ref, 0) || added;
    return added;
  }

  #addForms(text: string): boolean {
    let added = false;
    for (const form of deriveForms(text, this.minLength)) added = this.#matcher.add(form.text) || added;
    return added;
  }

  #warn(code: RedactorWarning['code'], ref: string | undefined, message: string): void {
    const key = `${code}\0${ref ?? ''}`;
    if (this.#warned.has(key)) return;
    if (this.#warned.size > 10_000) this.#warned.clear();
    this.#warned.add(key);
    try {
      this.#onWarning({ code, ref, message });
    } catch {
      // A throwing warning sink must not break registration.
    }
  }

  /**
   * Collects the masked ranges of `text` into `ranges` (registered values, then detectors) and
   * returns the position from which a match could still start if more text followed (only
   * when `open` is true; a whole text passes false and gets `text.length`).
   */
  scanInto(text: string, ranges: Ranges, open = true): number {
    const previous = this.#target;
    this.#target = ranges;
    try {
      const bytes = this.#latin1(text);
      const at = this.#matcher.scan(text, this.#push, bytes, open);
      if (!this.#detectors.empty) this.#detectors.detect(text, this.#push, bytes);
      return at;
    } finally {
      this.#target = previous;
    }
  }

  /**
   * The low byte of every code unit of `text` (its Latin-1 encoding), in a reused scratch
   * buffer: the pre-check loops read bytes faster than `charCodeAt`.
   */
  #latin1(text: string): Uint8Array {
    const len = text.length;
    let scratch = this.#scratch;
    if (len > scratch.length) {
      if (len > MAX_SCRATCH) {
        const once = Buffer.allocUnsafe(len);
        writeLatin1(once, text);
        return once;
      }
      let size = scratch.length;
      while (size < len) size *= 2;
      this.#scratch = scratch = Buffer.allocUnsafe(size);
    }
    writeLatin1(scratch, text);
    return scratch;
  }

  redact(text: string): string {
    try {
      if (typeof text !== 'string') text = String(text);
      const ranges = this.#ranges;
      ranges.clear();
      this.scanInto(text, ranges, false);
      if (ranges.count === 0) return text;
      ranges.normalize();
      return ranges.apply(text, this.placeholder);
    } catch {
      return REDACTION_FAILED;
    }
  }

  /** Redacts bytes through their Latin-1 view (lossless); returns a copy. */
  redactBytes(bytes: Uint8Array): Buffer {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const view = buf.toString('latin1');
    const ranges = new Ranges();
    this.scanInto(view, ranges, false);
    if (ranges.count === 0) return Buffer.from(buf);
    ranges.normalize();
    const parts: Buffer[] = [];
    const mask = Buffer.from(this.placeholder, 'utf8');
    let last = 0;
    for (let i = 0; i < ranges.count; i++) {
      parts.push(buf.subarray(last, ranges.start(i)), mask);
      last = ranges.end(i);
    }
    parts.push(buf.subarray(last));
    return Buffer.concat(parts);
  }

  redactValue(value: unknown): unknown {
    try {
      return redactDeep(value, this);
    } catch {
      return REDACTION_FAILED;
    }
  }

  redactError<E>(err: E): E {
    try {
      if (!(err instanceof Error)) return redactDeep(err, this) as E;
      return redactErrorCopy(err, this) as E;
    } catch {
      return new Error(REDACTION_FAILED) as E;
    }
  }

  createRedactStream(options: RedactStreamOptions = {}): Transform {
    return createRedactStream(this, options);
  }

  wrapConsole(options: WrapConsoleOptions = {}): () => void {
    return wrapConsole(this, options);
  }

  wrapProcessOutput(options: WrapProcessOutputOptions = {}): () => void {
    return wrapProcessOutput(this, options);
  }

  isSensitiveKey(key: string): boolean {
    return this.#keys.isSensitive(key);
  }
}

/**
 * Writes `text` as Latin-1 at the start of `buf` (which is long enough). `latin1Write` skips the
 * argument handling of `buf.write(text, 0, len, 'latin1')`; it is used when this Node has it.
 */
const latin1Write = (Buffer.prototype as unknown as { latin1Write?: (this: Buffer, text: string, offset: number, length: number) => number }).latin1Write;
function writeLatin1(buf: Buffer, text: string): void {
  if (latin1Write !== undefined) latin1Write.call(buf, text, 0, text.length);
  else buf.write(text, 0, text.length, 'latin1');
}

function name(ref: string | undefined): string {
  return ref === undefined ? 'an unnamed secret' : `"${ref}"`;
}

/** Warnings already printed by this process: each (kind, ref) once, however many clients a test suite makes. */
const printed = new Set<string>();
let collector: ((w: RedactorWarning) => void) | undefined;

/**
 * Sends the warnings of redactors without their own `onWarning` to `fn` instead of printing
 * them (`undefined` restores printing). Used by `collectRedactorWarnings` in the test kit.
 * @internal
 */
export function setWarningCollector(fn: ((w: RedactorWarning) => void) | undefined): void {
  collector = fn;
}

function defaultWarning(w: RedactorWarning): void {
  if (collector !== undefined) return collector(w);
  const key = `${w.code}\0${w.ref ?? ''}`;
  if (printed.has(key)) return;
  if (printed.size > 10_000) printed.clear();
  printed.add(key);
  process.emitWarning(w.message, { code: `CONNECTOR_SECRETS_${w.code}` });
}
