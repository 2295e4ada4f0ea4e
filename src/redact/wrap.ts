/**
 * Opt-in wrappers for connectors that print: `console.*` and `process.stdout/stderr.write`.
 * Each wrapper returns the function that undoes it; if something else wrapped the same method
 * afterwards, undo turns this wrapper into a pass-through instead of breaking that chain.
 *
 * @module
 */
import { format } from 'node:util';
import { REDACTION_FAILED } from './value.js';

/** What the wrappers need from the redactor. */
export interface WrapContext {
  redact(text: string): string;
  redactValue(value: unknown): unknown;
  redactBytes(bytes: Uint8Array): Buffer;
}

/** The console methods `redactor.wrapConsole()` can wrap (all of them by default). */
export type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'dir' | 'dirxml' | 'table' | 'assert';

/**
 * Every console method that prints what it is given. `group`, `timeLog`, `count` and `timeEnd`
 * print through `this.log`; `dirxml` is the same function as `log` in Node (so wrapping `log`
 * alone misses it).
 */
const ALL_METHODS: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'dirxml', 'table', 'assert'];

/**
 * Options of `redactor.wrapConsole()`.
 *
 * @example
 * ```ts
 * const undo = secrets.redactor.wrapConsole({ methods: ['log', 'error'] });
 * ```
 */
export interface WrapConsoleOptions {
  /**
   * The console to wrap.
   * @default globalThis.console
   */
  readonly console?: Console;
  /**
   * The methods to wrap.
   * @default ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'dirxml', 'table', 'assert']
   */
  readonly methods?: readonly ConsoleMethod[];
}

/**
 * Options of `redactor.wrapProcessOutput()`.
 *
 * @example
 * ```ts
 * const undo = secrets.redactor.wrapProcessOutput({ streams: [process.stderr] });
 * ```
 */
export interface WrapProcessOutputOptions {
  /**
   * The writable streams whose `write` is wrapped.
   * @default [process.stdout, process.stderr]
   */
  readonly streams?: readonly NodeJS.WritableStream[];
}

type AnyFn = (...args: unknown[]) => unknown;

/** Replaces `target[key]` by `make(original)`; returns the undo function. */
function patch(target: Record<string, unknown>, key: string, make: (original: AnyFn) => AnyFn): () => void {
  const original = target[key];
  if (typeof original !== 'function') return () => {};
  let active = true;
  const inner = make(original as AnyFn);
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return active ? inner.apply(this, args) : (original as AnyFn).apply(this, args);
  };
  target[key] = wrapper;
  return () => {
    if (target[key] === wrapper) target[key] = original;
    else active = false;
  };
}

/** Wraps console methods so their arguments are redacted (structure first, then the formatted line). */
export function wrapConsole(ctx: WrapContext, options: WrapConsoleOptions = {}): () => void {
  const target = (options.console ?? globalThis.console) as unknown as Record<string, unknown>;
  const undos = (options.methods ?? ALL_METHODS).map((method) =>
    patch(target, method, (original) => {
      if (method === 'dir') return function (this: unknown, value: unknown, ...rest: unknown[]) {
        return original.call(this, ctx.redactValue(value), ...rest);
      };
      if (method === 'table') return function (this: unknown, data: unknown, ...rest: unknown[]) {
        return original.call(this, ctx.redactValue(data), ...rest);
      };
      if (method === 'assert') return function (this: unknown, condition: unknown, ...args: unknown[]) {
        if (condition) return undefined;
        return original.call(this, condition, ...(args.length === 0 ? [] : [line(ctx, args)]));
      };
      return function (this: unknown, ...args: unknown[]) {
        return original.call(this, ...(args.length === 0 ? [] : [line(ctx, args)]));
      };
    }),
  );
  return () => {
    for (const undo of undos.reverse()) undo();
  };
}

/** The arguments redacted one by one, formatted as console would, and the line redacted again. */
function line(ctx: WrapContext, args: unknown[]): string {
  try {
    const redacted = args.map((a, i) => (i === 0 && typeof a === 'string' ? ctx.redact(a) : ctx.redactValue(a)));
    return ctx.redact(format(...redacted));
  } catch {
    return REDACTION_FAILED;
  }
}

/** Wraps `write` of each stream: strings are redacted, bytes through their Latin-1 view. */
export function wrapProcessOutput(ctx: WrapContext, options: WrapProcessOutputOptions = {}): () => void {
  const streams = options.streams ?? [process.stdout, process.stderr];
  const undos = streams.map((stream) =>
    patch(stream as unknown as Record<string, unknown>, 'write', (original) => function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      let safe: unknown = chunk;
      if (typeof chunk === 'string') {
        const enc = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
        safe = enc === undefined || enc === 'utf8' || enc === 'utf-8' ? ctx.redact(chunk) : ctx.redactBytes(Buffer.from(chunk, enc)).toString(enc);
      } else if (chunk instanceof Uint8Array) {
        safe = ctx.redactBytes(chunk);
      }
      return original.call(this, safe, ...rest);
    }),
  );
  return () => {
    for (const undo of undos.reverse()) undo();
  };
}
