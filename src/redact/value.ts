/**
 * Deep redaction of any value (`redactor.redactValue`): a copy with every string redacted and
 * every value under a sensitive key replaced by the placeholder.
 *
 * @module
 */
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
    case 'object':
      break;
    default:
      // boolean, undefined, symbol, function: nothing to redact, nothing printed from inside.
      return value;
  }
  if (value === null) return null;
  if (value instanceof Secret) return String(value);
  if (ancestors.has(value)) return CIRCULAR;
  if (depth >= ctx.maxDepth) return DEPTH_LIMIT;
  if (value instanceof Error) return redactErrorCopy(value, ctx, depth, new Map(), ancestors);
  if (value instanceof Uint8Array) return ctx.redactBytes(value);
  if (ArrayBuffer.isView(value)) return copyView(value);
  if (value instanceof ArrayBuffer) {
    const copy = ctx.redactBytes(new Uint8Array(value));
    return copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.byteLength);
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof RegExp) return safe(() => new RegExp(ctx.redact(value.source), value.flags), REDACTION_FAILED);
  if (value instanceof URL) return ctx.redact(value.href);
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof Promise) return value;

  ancestors.add(value);
  try {
    const next = depth + 1;
    if (Array.isArray(value)) {
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = safe(() => redactDeep(value[i], ctx, next, ancestors), REDACTION_FAILED);
      return out;
    }
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value) {
        const key = redactDeep(k, ctx, next, ancestors);
        out.set(key, typeof k === 'string' && ctx.isSensitiveKey(k) && v != null ? ctx.placeholder : redactDeep(v, ctx, next, ancestors));
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

/** Own enumerable properties (string and symbol keys) into a plain object. */
export function copyObject(value: object, ctx: DeepContext, depth: number, ancestors: Set<object>): Record<string | symbol, unknown> {
  const out: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (desc === undefined || !desc.enumerable) continue;
    const v = safe(() => (value as Record<string | symbol, unknown>)[key], REDACTION_FAILED);
    let outKey: string | symbol = key;
    let outValue: unknown;
    if (typeof key === 'string') {
      outKey = ctx.redact(key);
      outValue = ctx.isSensitiveKey(key) && v != null ? ctx.placeholder : safe(() => redactDeep(v, ctx, depth, ancestors), REDACTION_FAILED);
    } else {
      outValue = safe(() => redactDeep(v, ctx, depth, ancestors), REDACTION_FAILED);
    }
    Object.defineProperty(out, outKey, { value: outValue, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function copyView(view: ArrayBufferView): ArrayBufferView {
  const ctor = view.constructor as new (buffer: ArrayBufferLike) => ArrayBufferView;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  try {
    return new ctor(bytes.buffer);
  } catch {
    return bytes;
  }
}

/** `fn()`, or `fallback` when it throws. */
export function safe<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
