/**
 * Error redaction (`redactor.redactError`): a copy of an error with the same prototype, whose
 * message, stack, cause chain, `AggregateError.errors` and own properties are redacted.
 *
 * Keeping the prototype keeps `instanceof` and class methods working, but the prototype's own
 * getters and conversion methods would then run against the copy and could still return the
 * secret (a `message` getter closing over it, a custom `toString`). So every getter of the
 * prototype chain is read once from the original and shadowed on the copy by its redacted value,
 * and so are `toString`, `valueOf`, `toJSON`, `Symbol.toPrimitive` and `util.inspect.custom`
 * when the chain defines its own.
 *
 * @module
 */
import { CIRCULAR, CONVERSIONS, conversionMethod, DEPTH_LIMIT, REDACTION_FAILED, redactDeep, redactKey, safe, type DeepContext } from './value.js';

/** The built-in conversions, which read only the (already redacted) own properties. */
const BUILTIN: ReadonlySet<unknown> = new Set([Error.prototype.toString, Object.prototype.toString, Object.prototype.valueOf]);

/**
 * The redacted copy of `err`. `seen` maps errors already copied in this call to their copies, so
 * a cause cycle becomes the same cycle between copies (errors print fine with cycles).
 */
export function redactErrorCopy(
  err: Error,
  ctx: DeepContext,
  depth = 0,
  seen: Map<Error, Error> = new Map(),
  ancestors: Set<object> = new Set(),
): Error {
  const known = seen.get(err);
  if (known !== undefined) return known;
  const proto = safe(() => Object.getPrototypeOf(err) as object | null, Error.prototype);
  const copy = Object.create(proto) as Error;
  seen.set(err, copy);
  ancestors.add(err);
  try {
    const child = (v: unknown): unknown => {
      if (v instanceof Error) return depth + 1 >= ctx.maxDepth ? DEPTH_LIMIT : redactErrorCopy(v, ctx, depth + 1, seen, ancestors);
      if (typeof v === 'object' && v !== null && ancestors.has(v)) return CIRCULAR;
      return redactDeep(v, ctx, depth + 1, ancestors);
    };
    const redactProp = (key: string | symbol, raw: unknown): unknown => {
      if (key === 'message' || key === 'stack' || key === 'name') return typeof raw === 'string' ? ctx.redact(raw) : child(raw);
      if (key === 'cause') return child(raw);
      if (key === 'errors' && Array.isArray(raw)) return raw.map((e) => safe(() => child(e), REDACTION_FAILED));
      if (typeof key === 'string' && ctx.isSensitiveKey(key) && raw != null) return ctx.placeholder;
      return safe(() => child(raw), REDACTION_FAILED);
    };
    /** Keys already given to the copy, by their original name. */
    const done = new Set<string | symbol>();
    const define = (key: string | symbol, value: unknown, enumerable: boolean): void => {
      done.add(key);
      Object.defineProperty(copy, redactKey(key, ctx), { value, enumerable, writable: true, configurable: true });
    };
    for (const key of safe(() => Reflect.ownKeys(err), [] as (string | symbol)[])) {
      const desc = safe(() => Object.getOwnPropertyDescriptor(err, key), undefined);
      if (desc === undefined) continue;
      const raw = safe(() => ('value' in desc ? desc.value : desc.get?.call(err)) as unknown, REDACTION_FAILED);
      if (typeof raw === 'function' && CONVERSIONS.has(key)) define(key, conversionMethod(err, copy, key, raw as (...a: unknown[]) => unknown, ctx, child), false);
      else define(key, redactProp(key, raw), desc.enumerable ?? false);
    }
    // The prototype chain below Object.prototype: its getters (a lazy `message`, DOMException's
    // `name` and `message`) and data properties are read from the original, redacted and shadowed
    // on the copy; its own conversion methods are answered from the original's results, redacted.
    for (let p = proto; p !== null && p !== Object.prototype; p = safe(() => Object.getPrototypeOf(p) as object | null, null)) {
      for (const key of safe(() => Reflect.ownKeys(p!), [] as (string | symbol)[])) {
        // The nearest definition of a key is the one the copy would see: farther ones are skipped.
        if (done.has(key) || key === 'constructor') continue;
        done.add(key);
        const desc = safe(() => Object.getOwnPropertyDescriptor(p, key), undefined);
        if (desc === undefined) continue;
        if (desc.get !== undefined) {
          const getter = desc.get;
          define(key, redactProp(key, safe(() => getter.call(err) as unknown, REDACTION_FAILED)), false);
        } else if (typeof desc.value === 'function') {
          if (CONVERSIONS.has(key) && !BUILTIN.has(desc.value)) define(key, conversionMethod(err, copy, key, desc.value as (...a: unknown[]) => unknown, ctx, child), false);
        } else {
          const redacted = redactProp(key, desc.value);
          if (redacted !== desc.value) define(key, redacted, false);
        }
      }
    }
    return copy;
  } finally {
    ancestors.delete(err);
  }
}
