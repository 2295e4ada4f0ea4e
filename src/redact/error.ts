/**
 * Error redaction (`redactor.redactError`): a copy of an error with the same prototype, whose
 * message, stack, cause chain, `AggregateError.errors` and own properties are redacted.
 *
 * @module
 */
import { CIRCULAR, DEPTH_LIMIT, REDACTION_FAILED, redactDeep, safe, type DeepContext } from './value.js';

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
    for (const key of safe(() => Reflect.ownKeys(err), [] as (string | symbol)[])) {
      const desc = safe(() => Object.getOwnPropertyDescriptor(err, key), undefined);
      if (desc === undefined) continue;
      const raw = safe(() => ('value' in desc ? desc.value : desc.get?.call(err)) as unknown, REDACTION_FAILED);
      let value: unknown;
      if (key === 'message' || key === 'stack') value = typeof raw === 'string' ? ctx.redact(raw) : child(raw);
      else if (key === 'cause') value = child(raw);
      else if (key === 'errors' && Array.isArray(raw)) value = raw.map((e) => safe(() => child(e), REDACTION_FAILED));
      else if (typeof key === 'string' && ctx.isSensitiveKey(key) && raw != null) value = ctx.placeholder;
      else value = safe(() => child(raw), REDACTION_FAILED);
      Object.defineProperty(copy, key, { value, enumerable: desc.enumerable ?? false, writable: true, configurable: true });
    }
    // Host errors (DOMException …) keep message and name behind prototype getters that refuse a
    // copy; make them own properties. The stack may live on the prototype chain too.
    for (const key of ['message', 'stack', 'name'] as const) {
      if (Object.hasOwn(copy, key)) continue;
      const readable = safe(() => {
        void copy[key];
        return true;
      }, false);
      if (readable && key !== 'stack') continue;
      const raw = safe(() => err[key] as unknown, undefined);
      if (typeof raw === 'string') {
        Object.defineProperty(copy, key, { value: ctx.redact(raw), enumerable: false, writable: true, configurable: true });
      }
    }
    return copy;
  } finally {
    ancestors.delete(err);
  }
}
