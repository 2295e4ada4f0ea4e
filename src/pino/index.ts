/**
 * `connector-secrets/pino`: redacts the **final serialized line** of a pino logger, not only
 * chosen paths.
 *
 * How: pino's `hooks.streamWrite` receives each line after serialization (message interpolated,
 * objects and errors serialized, child bindings added) and before it reaches the destination or
 * transport. {@link withRedaction} installs a hook there that runs `redactor.redact` over the
 * whole line: every registered secret in any of its forms (JSON-escaped ones included), and the
 * detectors and key rules (`"password":"…"` is caught by the key-value rule, since the line is
 * JSON). A secret interpolated into a message, tucked into an error's message or stack or cause,
 * or placed under an unexpected key is masked all the same. Pino's own `redact` paths keep
 * working beside it.
 *
 * {@link redactingDestination} does the same as a destination wrapper, for code that builds the
 * logger elsewhere and can only choose its stream.
 *
 * pino is an optional peer dependency: this module imports its types only.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { withRedaction } from 'connector-secrets/pino';
 *
 * const log = pino(withRedaction(secrets.redactor, { level: 'info' }));
 * log.info(`connecting as ${user} with ${password.reveal()}`); // …with [REDACTED]
 * ```
 *
 * @module
 */
import type { DestinationStream, LoggerOptions } from 'pino';
import { redactJsonLine as redactLine } from '../redact/jsonLine.js';
import type { Redactor } from '../redact/redactor.js';

/**
 * Pino options with a `hooks.streamWrite` that redacts every serialized line. An existing
 * `streamWrite` hook in `options` runs first; redaction always runs last.
 *
 * @param redactor - usually `secrets.redactor`.
 * @param options - your pino options.
 * @default options `{}`
 * @example
 * ```ts
 * const log = pino(withRedaction(secrets.redactor, { level: 'debug' }), pino.destination(1));
 * ```
 */
export function withRedaction<O extends LoggerOptions>(redactor: Redactor, options?: O): O {
  const base = (options ?? {}) as O;
  const previous = base.hooks?.streamWrite;
  const streamWrite =
    previous === undefined ? (line: string): string => redactLine(redactor, line) : (line: string): string => redactLine(redactor, previous(line));
  return { ...base, hooks: { ...base.hooks, streamWrite } };
}

/**
 * A pino destination that redacts each line before handing it to `destination`.
 *
 * @param redactor - usually `secrets.redactor`.
 * @param destination - where lines go, e.g. `pino.destination(1)`.
 * @default destination process.stdout
 * @example
 * ```ts
 * const log = pino({ level: 'info' }, redactingDestination(secrets.redactor, pino.destination(1)));
 * ```
 */
export function redactingDestination(redactor: Redactor, destination?: DestinationStream): DestinationStream {
  const target: DestinationStream = destination ?? process.stdout;
  const wrapper: DestinationStream & Record<string, unknown> = {
    // pino takes a lone argument for a stream only when it says it is writable; without this,
    // `pino(redactingDestination(r))` reads the wrapper as options and logs unredacted to stdout.
    writable: true,
    write(line: string) {
      return target.write(redactLine(redactor, line));
    },
  };
  // Pass flushing and closing through (sonic-boom, thread-stream, fs streams …).
  for (const method of ['flush', 'flushSync', 'end', 'reopen'] as const) {
    const fn = (target as unknown as Record<string, unknown>)[method];
    if (typeof fn === 'function') wrapper[method] = (...args: unknown[]) => (fn as (...a: unknown[]) => unknown).apply(target, args);
  }
  return wrapper;
}

