/**
 * A small structured JSON logger that redacts everything it writes: the message, the fields
 * (by value and by key name) and errors (message, stack, causes). `secrets.logger` is one.
 *
 * @module
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { redactJsonLine } from './jsonLine.js';
import type { Redactor } from './redactor.js';
import { REDACTION_FAILED } from './value.js';
import { describeIssues } from '../issues.js';

/** Log levels, from most to least verbose. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Structured fields of one log entry. Errors anywhere in them are serialized and redacted. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where log lines go: anything with a `write(line)` method (a stream, a file handle …). */
export interface LogDestination {
  /** Receives one complete line, ending in `\n`. */
  write(line: string): unknown;
}

const LEVELS: Readonly<Record<LogLevel | 'silent', number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * Options of {@link createLogger} (and of `createSecrets({ logger })`).
 *
 * @example
 * ```ts
 * const log = createLogger(redactor, { level: 'debug', bindings: { connector: 'orders-sync' } });
 * ```
 */
export interface LoggerOptions {
  /**
   * The least severe level written; `'silent'` writes nothing.
   * @default 'info'
   */
  readonly level?: LogLevel | 'silent';
  /**
   * Where lines go.
   * @default process.stdout
   */
  readonly destination?: LogDestination;
  /**
   * Fields written on every line (redacted too).
   * @default {}
   */
  readonly bindings?: LogFields;
  /**
   * The clock for the `time` field, in epoch milliseconds.
   * @default Date.now (the client's clock for `secrets.logger`)
   */
  readonly now?: () => number;
}

/** The zod schema of {@link LoggerOptions}. */
export const loggerOptionsSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
    destination: z.custom<LogDestination>((v) => typeof (v as { write?: unknown } | null)?.write === 'function', 'destination needs a write(line) method').optional(),
    bindings: z.record(z.string(), z.unknown()).optional(),
    now: z.custom<() => number>((v) => typeof v === 'function', 'now must be a function').optional(),
  })
  .strict();

/** One logging method: a message, then optional fields. */
export type LogMethod = (message: string, fields?: LogFields) => void;

/**
 * A structured JSON logger whose output is redacted. Each line is one JSON object:
 * `{"level":"info","time":"…","msg":"…", …bindings, …fields}`.
 *
 * @example
 * ```ts
 * secrets.logger.info('batch synced', { rows: 1200, durationMs: 830 });
 * secrets.logger.error('sync failed', { err });          // message, stack and causes redacted
 * const log = secrets.logger.child({ table: 'orders' });
 * ```
 */
export interface Logger {
  /** The least severe level written; settable. */
  level: LogLevel | 'silent';
  /** Very detailed tracing. */
  readonly trace: LogMethod;
  /** Debugging detail. */
  readonly debug: LogMethod;
  /** Normal operation. */
  readonly info: LogMethod;
  /** Something unexpected that the connector survived. */
  readonly warn: LogMethod;
  /** A failed operation. */
  readonly error: LogMethod;
  /** The connector cannot go on. */
  readonly fatal: LogMethod;
  /** Whether a level would be written. */
  isLevelEnabled(level: LogLevel): boolean;
  /**
   * A logger that adds `bindings` to every line and shares this one's destination (its level
   * starts as this one's and can be changed on its own).
   * @example
   * ```ts
   * const log = secrets.logger.child({ table: 'orders' });
   * ```
   */
  child(bindings: LogFields): Logger;
}

/**
 * Creates a redacting JSON logger on top of a redactor.
 *
 * @throws {@link ConfigError} when the options are invalid.
 * @example
 * ```ts
 * const log = createLogger(createRedactor(), { level: 'debug' });
 * log.debug('connected', { host: 'db.internal', password }); // password: "[REDACTED]"
 * ```
 */
export function createLogger(redactor: Redactor, options: LoggerOptions = {}): Logger {
  const checked = loggerOptionsSchema.safeParse(options);
  if (!checked.success) {
    const why = describeIssues(checked.error.issues, '(options)');
    throw new ConfigError(`invalid logger options: ${why}`);
  }
  const destination = options.destination ?? process.stdout;
  const now = options.now ?? Date.now;
  const bindings = options.bindings === undefined ? {} : asFields(redactor.redactValue(options.bindings));
  return new JsonLogger(redactor, destination, now, bindings, options.level ?? 'info');
}

const RESERVED = new Set(['level', 'time', 'msg']);

class JsonLogger implements Logger {
  level: LogLevel | 'silent';
  readonly trace: LogMethod = (m, f) => this.#write('trace', m, f);
  readonly debug: LogMethod = (m, f) => this.#write('debug', m, f);
  readonly info: LogMethod = (m, f) => this.#write('info', m, f);
  readonly warn: LogMethod = (m, f) => this.#write('warn', m, f);
  readonly error: LogMethod = (m, f) => this.#write('error', m, f);
  readonly fatal: LogMethod = (m, f) => this.#write('fatal', m, f);
  readonly #redactor: Redactor;
  readonly #destination: LogDestination;
  readonly #now: () => number;
  /** Already redacted. */
  readonly #bindings: Record<string, unknown>;

  constructor(redactor: Redactor, destination: LogDestination, now: () => number, bindings: Record<string, unknown>, level: LogLevel | 'silent') {
    this.#redactor = redactor;
    this.#destination = destination;
    this.#now = now;
    this.#bindings = bindings;
    this.level = level;
  }

  isLevelEnabled(level: LogLevel): boolean {
    return LEVELS[level] >= (LEVELS[this.level] ?? LEVELS.info);
  }

  child(bindings: LogFields): Logger {
    const extra = asFields(this.#redactor.redactValue(bindings));
    return new JsonLogger(this.#redactor, this.#destination, this.#now, { ...this.#bindings, ...extra }, this.level);
  }

  #write(level: LogLevel, message: unknown, fields: LogFields | undefined): void {
    if (!this.isLevelEnabled(level)) return;
    const r = this.#redactor;
    let line: string;
    try {
      const entry: Record<string, unknown> = {
        level,
        time: new Date(this.#now()).toISOString(),
        msg: typeof message === 'string' ? r.redact(message) : serialize(r.redactValue(message)),
      };
      for (const [k, v] of Object.entries(this.#bindings)) if (!RESERVED.has(k)) entry[k] = v;
      if (fields !== undefined && fields !== null) {
        const safe = asFields(r.redactValue(fields));
        for (const [k, v] of Object.entries(safe)) if (!RESERVED.has(k)) entry[k] = serialize(v);
      }
      // The final line is redacted once more: whatever the serialization produced is checked
      // against every registered form (JSON-escaped ones included).
      line = redactJsonLine(r, JSON.stringify(entry, jsonReplacer)) + '\n';
    } catch {
      line = `${JSON.stringify({ level, time: safeTime(this.#now), msg: REDACTION_FAILED })}\n`;
    }
    try {
      this.#destination.write(line);
    } catch {
      // A logger never throws into the code that logs.
    }
  }
}

/** Errors (already redacted copies) become plain objects: JSON.stringify would drop their message. */
function serialize(value: unknown, seen: Set<object> = new Set()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { type: value.name, message: value.message };
      if (typeof value.stack === 'string') out['stack'] = value.stack;
      for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = serialize(v, seen);
      if (value.cause !== undefined) out['cause'] = serialize(value.cause, seen);
      if (value instanceof AggregateError && Array.isArray(value.errors)) out['errors'] = value.errors.map((e: unknown) => serialize(e, seen));
      return out;
    }
    if (Array.isArray(value)) return value.map((v) => serialize(v, seen));
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), serialize(v, seen)]));
    if (value instanceof Set) return [...value].map((v) => serialize(v, seen));
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = serialize(v, seen);
      return out;
    }
    return value;
  } finally {
    seen.delete(value);
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function asFields(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

function safeTime(now: () => number): string {
  try {
    return new Date(now()).toISOString();
  } catch {
    return new Date().toISOString();
  }
}
