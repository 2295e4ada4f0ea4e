import { SecretDisposedError } from './errors.js';
import type { SecretMetadata } from './provider.js';

/** What the placeholder of a redacted value is, unless configured otherwise. */
export const DEFAULT_PLACEHOLDER = '[REDACTED]';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Non-secret facts that travel with a {@link Secret}.
 *
 * @example
 * ```ts
 * const s = new Secret('generated-test-value', { ref: 'env://API_TOKEN', provider: 'env' });
 * ```
 */
export interface SecretInfo {
  /** The canonical ref the value was resolved from. */
  readonly ref?: string | undefined;
  /** The name of the provider that answered. */
  readonly provider?: string | undefined;
  /** The provider's version of the value. */
  readonly version?: string | undefined;
  /** When the credential stops working. */
  readonly expiresAt?: Date | undefined;
  /** Non-secret facts the provider reported (owner, environment tag …). */
  readonly metadata?: SecretMetadata | undefined;
  /**
   * What the secret prints as.
   * @default '[REDACTED]'
   */
  readonly placeholder?: string | undefined;
  /**
   * Called with each value derived through {@link Secret.map}, before the derived `Secret`
   * exists, so that a redactor learns it. The client sets this.
   */
  readonly onDerive?: ((value: unknown, ref: string | undefined) => void) | undefined;
}

/**
 * An opaque secret value. It prints as a placeholder everywhere (`String`, template literals,
 * `JSON.stringify`, `util.inspect`, `console.log`, `structuredClone`) and gives its value only
 * through {@link Secret.reveal}, {@link Secret.use} and {@link Secret.map}.
 *
 * @typeParam T - The value type: `string`, `Uint8Array`, or a parsed JSON object.
 *
 * @example
 * ```ts
 * const pw = await secrets.get('secret://orders-db/password');
 * console.log(`password is ${pw}`);       // password is [REDACTED]
 * const client = new pg.Client({ password: pw.reveal() });
 * ```
 */
export class Secret<T> {
  #value: T;
  #disposed = false;
  readonly #info: SecretInfo;

  constructor(value: T, info: SecretInfo = {}) {
    this.#value = value;
    this.#info = info;
  }

  /** The canonical ref this value was resolved from (not secret). */
  get ref(): string | undefined {
    return this.#info.ref;
  }
  /** The provider that answered (not secret). */
  get provider(): string | undefined {
    return this.#info.provider;
  }
  /** The provider's version of the value (not secret). */
  get version(): string | undefined {
    return this.#info.version;
  }
  /** When the credential stops working, if it expires. */
  get expiresAt(): Date | undefined {
    return this.#info.expiresAt;
  }
  /** Non-secret facts the provider reported. */
  get metadata(): SecretMetadata {
    return this.#info.metadata ?? {};
  }
  /** True once {@link Secret.dispose} has run. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * The value itself. Call it at the last moment, where the value is handed to a driver.
   * @throws {@link SecretDisposedError} after {@link Secret.dispose}.
   */
  reveal(): T {
    if (this.#disposed) throw new SecretDisposedError('the secret was disposed', { ref: this.#info.ref });
    return this.#value;
  }

  /**
   * Runs `fn` with the value and returns its result.
   * @example
   * ```ts
   * await token.use((t) => fetch(url, { headers: { authorization: `Bearer ${t}` } }));
   * ```
   */
  use<R>(fn: (value: T) => R): R {
    return fn(this.reveal());
  }

  /**
   * Derives another secret; the derived value stays secret (and is registered with the
   * client's redactor).
   * @example
   * ```ts
   * const basic = creds.map((c) => Buffer.from(`${c.username}:${c.password}`).toString('base64'));
   * ```
   */
  map<U>(fn: (value: T) => U): Secret<U> {
    const next = fn(this.reveal());
    this.#info.onDerive?.(next, this.#info.ref);
    return new Secret(next, this.#info);
  }

  /**
   * Zero-fills a binary value and makes later {@link Secret.reveal} calls throw. Strings
   * cannot be wiped in JavaScript; for them this only drops the reference.
   */
  dispose(): void {
    if (this.#value instanceof Uint8Array) this.#value.fill(0);
    this.#value = undefined as T;
    this.#disposed = true;
  }

  /** Same as {@link Secret.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Returns the placeholder. */
  toString(): string {
    return this.#placeholder();
  }
  /** Returns the placeholder, so `JSON.stringify` never shows the value. */
  toJSON(): string {
    return this.#placeholder();
  }
  /** Returns the placeholder, so arithmetic and comparisons never see the value. */
  valueOf(): string {
    return this.#placeholder();
  }
  /** Returns the placeholder for every coercion. */
  [Symbol.toPrimitive](): string {
    return this.#placeholder();
  }
  /** What `util.inspect` and `console.log` show: the placeholder, ref and provider. */
  [INSPECT](): string {
    const facts = [this.#info.ref && `ref: ${JSON.stringify(this.#info.ref)}`, this.#info.provider && `provider: ${JSON.stringify(this.#info.provider)}`]
      .filter(Boolean)
      .join(', ');
    return `Secret ${this.#placeholder()}${facts ? ` { ${facts} }` : ''}`;
  }
  /** `'Secret'`, for `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return 'Secret';
  }

  #placeholder(): string {
    return this.#info.placeholder ?? DEFAULT_PLACEHOLDER;
  }
}
