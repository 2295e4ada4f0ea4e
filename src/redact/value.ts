/**
 * Deep redaction of any value (`redactor.redactValue`): a copy with every string redacted and
 * every value under a sensitive key replaced by the placeholder.
 *
 * @module
 */
import { inspect } from 'node:util';
import { Secret } from '../secret.js';
import { redactErrorCopy } from './error.js';

/** What the walk needs from the redactor. */
export interface DeepContext {
  readonly placeholder: string;
  readonly maxDepth: number;
  readonly minLength: number;
  redact(text: string): string;
  redactBytes(bytes: Uint8Array): Buffer;
  isSensitiveKey(key: string): boolean;
}

/** Marks a reference cycle in a copy. */
export const CIRCULAR = '[Circular]';
/** Replaces a value deeper than `maxDepth`. */
export const DEPTH_LIMIT = '[Depth limit]';
/** What a value becomes when redacting it failed (a throwing getter, a hostile proxy …). */
export const REDACTION_FAILED = '<redaction-failed>';

/**
 * The redacted copy of `value`. `ancestors` holds the objects on the path from the root, so a
 * cycle is cut while a value shared by two branches is copied twice.
 */
export function redactDeep(value: unknown, ctx: DeepContext, depth = 0, ancestors: Set<object> = new Set()): unknown {
  switch (typeof value) {
    case 'string':
      return ctx.redact(value);
    case 'number': {
      if (!Number.isFinite(value)) return value;
      const text = String(value);
      return text.length >= ctx.minLength && ctx.redact(text) !== text ? ctx.placeholder : value;
    }
    case 'bigint': {
      const text = value.toString();
      return text.length >= ctx.minLength && ctx.redact(text) !== text ? ctx.placeholder : value;
    }
    case 'symbol':
      return redactSymbol(value, ctx);
    case 'object':
      break;
    default:
      // boolean, undefined, function: nothing to redact, nothing printed from inside.
      return value;
  }
  if (value === null) return null;
  if (value instanceof Secret) return String(value);
  if (ancestors.has(value)) return CIRCULAR;
  if (depth >= ctx.maxDepth) return DEPTH_LIMIT;
  if (value instanceof Error) return redactErrorCopy(value, ctx, depth, new Map(), ancestors);
  if (value instanceof Uint8Array) return ctx.redactBytes(value);
  if (ArrayBuffer.isView(value)) return copyView(value, ctx);
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)) return copyBuffer(value, ctx);
  // `new String(secret)`, a String subclass, boxed numbers: redacted as the primitive they hold.
  if (value instanceof String || value instanceof Number || value instanceof BigInt || value instanceof Boolean || value instanceof Symbol) {
    return redactDeep(value.valueOf(), ctx, depth, ancestors);
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof RegExp) return safe(() => new RegExp(ctx.redact(value.source), value.flags), REDACTION_FAILED);
  if (value instanceof URL) return ctx.redact(value.href);
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof Promise) return value;

  ancestors.add(value);
  try {
    const next = depth + 1;
    if (Array.isArray(value)) {
      // An entry pair (`Object.entries`, `[...headers]`, `[...searchParams]`): the key decides.
      if (value.length === 2 && typeof value[0] === 'string' && value[1] != null && ctx.isSensitiveKey(value[0])) return [ctx.redact(value[0]), ctx.placeholder];
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = safe(() => redactDeep(value[i], ctx, next, ancestors), REDACTION_FAILED);
      return out;
    }
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value) {
        const key = redactDeep(k, ctx, next, ancestors);
        out.set(key, sensitiveKey(k, ctx) && v != null ? ctx.placeholder : redactDeep(v, ctx, next, ancestors));
      }
      return out;
    }
    if (value instanceof Set) {
      const out = new Set<unknown>();
      for (const v of value) out.add(redactDeep(v, ctx, next, ancestors));
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    const plain = proto === Object.prototype || proto === null;
    if (!plain) {
      // A boxed primitive from another realm (vm context) fails the instanceof checks above.
      const boxed = unboxed(value);
      if (boxed !== NOT_BOXED) return redactDeep(boxed, ctx, depth, ancestors);
      // A class instance that knows its own JSON form (URL-like, Decimal, Secret-like): use it.
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        return redactDeep(toJSON.call(value), ctx, next, ancestors);
      }
    }
    return copyObject(value, ctx, next, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Own enumerable properties (string and symbol keys) into a plain object. A value is replaced by
 * the placeholder when its key is sensitive, or when a sibling field names it sensitive
 * (`{ name: 'DB_PASSWORD', value: '…' }`, see {@link namedSensitive}).
 */
export function copyObject(value: object, ctx: DeepContext, depth: number, ancestors: Set<object>): Record<string | symbol, unknown> {
  const out: Record<string | symbol, unknown> = {};
  const named = namedSensitive(value, ctx);
  for (const key of Reflect.ownKeys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (desc === undefined || !desc.enumerable) continue;
    const v = safe(() => (value as Record<string | symbol, unknown>)[key], REDACTION_FAILED);
    if (typeof v === 'function' && CONVERSIONS.has(key)) {
      const method = conversionMethod(value, out, key, v as (...a: unknown[]) => unknown, ctx, (x) => redactDeep(x, ctx, depth, ancestors));
      Object.defineProperty(out, key, { value: method, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const hide = v != null && (sensitiveKey(key, ctx) || (named && typeof key === 'string' && VALUE_FIELDS.has(key)));
    const outValue = hide ? ctx.placeholder : safe(() => redactDeep(v, ctx, depth, ancestors), REDACTION_FAILED);
    Object.defineProperty(out, redactKey(key, ctx), { value: outValue, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Methods that `String(x)`, `${x}`, `x + ''`, JSON.stringify and util.inspect call on an object. */
export const CONVERSIONS: ReadonlySet<string | symbol> = new Set(['toString', 'valueOf', 'toJSON', Symbol.toPrimitive, INSPECT]);

/**
 * The stand-in, on a copy, for a conversion method of the original (`toString`, `toJSON`,
 * `Symbol.toPrimitive`, `util.inspect.custom` …): the original's method runs once, now, with the
 * original as `this`, and the stand-in answers its result redacted, so a method closing over a
 * secret cannot print it through the copy.
 */
export function conversionMethod(original: object, copy: object, key: string | symbol, fn: (...args: unknown[]) => unknown, ctx: Pick<DeepContext, 'redact'>, child: (v: unknown) => unknown): (...args: unknown[]) => unknown {
  const answer = (raw: unknown): unknown => (typeof raw === 'string' ? ctx.redact(raw) : raw === original ? copy : child(raw));
  if (key === Symbol.toPrimitive) {
    const answers = new Map<unknown, unknown>();
    for (const hint of ['string', 'number', 'default']) answers.set(hint, answer(safe(() => fn.call(original, hint), REDACTION_FAILED)));
    return (hint) => answers.get(hint);
  }
  if (key === INSPECT) {
    // What util.inspect printed for the original, redacted.
    const text = ctx.redact(safe(() => inspect(original), REDACTION_FAILED));
    return () => text;
  }
  const result = answer(safe(() => fn.call(original), REDACTION_FAILED));
  return () => result;
}

/** Every casing of `words` a serializer writes: lower, Capitalized, UPPER, camelCase of the given form. */
function casings(words: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const w of words) {
    out.add(w).add(w.toLowerCase()).add(w.toUpperCase()).add(w.charAt(0).toUpperCase() + w.slice(1)).add(w.charAt(0).toLowerCase() + w.slice(1));
  }
  return out;
}

/** Field names that name an entry of a name/value list (Kubernetes and ECS env, AWS SSM and tags, CloudFormation parameters, Airflow variables). */
const NAME_FIELDS = casings(['name', 'key', 'ParameterKey', 'ParameterName', 'variable']);
/** Field names that hold the value of such an entry. */
export const VALUE_FIELDS = casings(['value', 'val', 'ParameterValue', 'SecretValue']);

/**
 * Whether `record` is a name/value entry whose name field holds a sensitive key name:
 * `{ name: 'DB_PASSWORD', value: '…' }`, `{ Key: 'apiToken', Value: '…' }`,
 * `{ ParameterKey: 'MasterUserPassword', ParameterValue: '…' }`. Its value fields (see
 * {@link VALUE_FIELDS}) are then hidden. Set lookups only: this runs for every object copied.
 */
export function namedSensitive(record: object, ctx: Pick<DeepContext, 'isSensitiveKey'>): boolean {
  let hasValue = false;
  let sensitive = false;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (VALUE_FIELDS.has(key)) hasValue = true;
    else if (NAME_FIELDS.has(key)) {
      const name = safe(() => (record as Record<string, unknown>)[key], undefined);
      if (typeof name === 'string' && ctx.isSensitiveKey(name)) sensitive = true;
    }
  }
  return hasValue && sensitive;
}

/** A key (or a Map key) that holds secrets by the key-name rules; a symbol by its description. */
function sensitiveKey(key: unknown, ctx: DeepContext): boolean {
  if (typeof key === 'string') return ctx.isSensitiveKey(key);
  return typeof key === 'symbol' && key.description !== undefined && ctx.isSensitiveKey(key.description);
}

/** A property key with any secret in it masked: strings redacted, symbols by their description. */
export function redactKey(key: string | symbol, ctx: Pick<DeepContext, 'redact'>): string | symbol {
  return typeof key === 'string' ? ctx.redact(key) : redactSymbol(key, ctx);
}

/**
 * A symbol whose description holds a secret becomes a new symbol with the description redacted
 * (a registered `Symbol.for` one, a new registered one); any other symbol is kept as it is.
 */
export function redactSymbol(sym: symbol, ctx: Pick<DeepContext, 'redact'>): symbol {
  const description = sym.description;
  if (description === undefined) return sym;
  const redacted = ctx.redact(description);
  if (redacted === description) return sym;
  return Symbol.keyFor(sym) === undefined ? Symbol(redacted) : Symbol.for(redacted);
}

const NOT_BOXED = Symbol('not boxed');

/** The `valueOf` that reads each boxed primitive's internal slot, by the object's tag. */
const UNBOX: ReadonlyMap<string, (this: unknown) => unknown> = new Map<string, (this: unknown) => unknown>([
  ['[object String]', String.prototype.valueOf],
  ['[object Number]', Number.prototype.valueOf],
  ['[object BigInt]', BigInt.prototype.valueOf],
  ['[object Boolean]', Boolean.prototype.valueOf],
  ['[object Symbol]', Symbol.prototype.valueOf],
]);

/**
 * The primitive inside a boxed String, Number, BigInt, Boolean or Symbol of any realm, else
 * NOT_BOXED. The tag picks the candidate (no exception for ordinary objects); its `valueOf`
 * throws unless the object really carries that slot (a spoofed `Symbol.toStringTag`).
 */
function unboxed(value: object): unknown {
  const valueOf = UNBOX.get(safe(() => Object.prototype.toString.call(value), ''));
  if (valueOf === undefined) return NOT_BOXED;
  return safe(() => valueOf.call(value), NOT_BOXED);
}

/**
 * A typed array or DataView copied with its bytes redacted, of the same kind. The placeholder
 * changes the byte length; it is padded with zero bytes to a whole number of elements.
 */
function copyView(view: ArrayBufferView, ctx: DeepContext): ArrayBufferView {
  const bytes = ctx.redactBytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  const size = (view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  const buffer = new ArrayBuffer(Math.ceil(bytes.byteLength / size) * size);
  new Uint8Array(buffer).set(bytes);
  if (view instanceof DataView) return new DataView(buffer);
  const ctor = view.constructor as new (buffer: ArrayBuffer) => ArrayBufferView;
  try {
    return new ctor(buffer);
  } catch {
    return new Uint8Array(buffer);
  }
}

/** An ArrayBuffer or SharedArrayBuffer copied with its bytes redacted, of the same kind. */
function copyBuffer(value: ArrayBuffer | SharedArrayBuffer, ctx: DeepContext): ArrayBuffer | SharedArrayBuffer {
  const bytes = ctx.redactBytes(new Uint8Array(value));
  const out = value instanceof ArrayBuffer ? new ArrayBuffer(bytes.byteLength) : new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/** `fn()`, or `fallback` when it throws. */
export function safe<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
