/**
 * `connector-secrets/winston`: a winston format that redacts log entries.
 *
 * It redacts every field of the entry in place (by value, and by key name: `password`,
 * `apiKey` … become the placeholder), the message, `splat` arguments and errors, and — when it
 * runs after a finalizing format such as `format.json()` or `format.printf()` — the final
 * serialized line too (`info[Symbol.for('message')]`). Put it last in `format.combine(…)` so
 * the line that transports write is the one that was redacted.
 *
 * winston is an optional peer dependency: this module imports its types only (a format is an
 * object with a `transform` method, so winston itself is not needed at run time).
 *
 * @example
 * ```ts
 * import winston from 'winston';
 * import { redactFormat } from 'connector-secrets/winston';
 *
 * const log = winston.createLogger({
 *   format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.json(), redactFormat(secrets.redactor)),
 *   transports: [new winston.transports.Console()],
 * });
 * ```
 *
 * @module
 */
import type { Logform } from 'winston';
import type { Redactor } from '../redact/redactor.js';
import { redactJsonLine } from '../redact/jsonLine.js';
import { namedSensitive, VALUE_FIELDS } from '../redact/value.js';

const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');

/**
 * A winston format that redacts each entry in place (fields, message, splat, errors) and the
 * final serialized line when one exists.
 *
 * @param redactor - usually `secrets.redactor`.
 * @example
 * ```ts
 * winston.format.combine(winston.format.json(), redactFormat(secrets.redactor));
 * ```
 */
export function redactFormat(redactor: Redactor): Logform.Format {
  return {
    options: {},
    transform(info: Logform.TransformableInfo): Logform.TransformableInfo {
      const record = info as Record<string | symbol, unknown>;
      // `log.info('env', { name: 'DB_PASSWORD', value })` merges the entry into the info itself.
      const named = namedSensitive(record, redactor);
      for (const key of Reflect.ownKeys(record)) {
        if (key === 'level' || key === LEVEL) continue;
        const value = record[key];
        if (key === MESSAGE) {
          // A line from format.json() stays valid JSON; other finalized lines are plain text.
          if (typeof value === 'string') record[key] = value.startsWith('{') ? redactJsonLine(redactor, value) : redactor.redact(value);
          continue;
        }
        if (typeof key === 'string' && (redactor.isSensitiveKey(key) || (named && VALUE_FIELDS.has(key))) && value != null) {
          record[key] = redactor.placeholder;
          continue;
        }
        record[key] = value instanceof Error ? redactor.redactError(value) : redactor.redactValue(value);
      }
      return info;
    },
  };
}
