import type { AuditEvent, AuditSink } from './event.js';

/**
 * Options of {@link stdoutAuditSink}.
 *
 * @example
 * ```ts
 * stdoutAuditSink({ write: (line) => process.stderr.write(line) });
 * ```
 */
export interface StdoutAuditSinkOptions {
  /**
   * Where each line goes (a JSON object and a newline).
   * @default writes to process.stdout
   */
  readonly write?: (line: string) => void;
}

/**
 * Writes each audit event as one JSON line, `{"audit":{…}}`, to standard output, for log
 * collectors that ship container output. It is not tamper-evident: pair it with
 * {@link fileAuditSink} where records must be trusted.
 *
 * @example
 * ```ts
 * createSecrets({ environment: 'prod', providers, audit: [stdoutAuditSink(), fileAuditSink(path, { hmacKey })] });
 * ```
 */
export function stdoutAuditSink(options: StdoutAuditSinkOptions = {}): AuditSink {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  return {
    write(event: AuditEvent) {
      write(JSON.stringify({ audit: event }) + '\n');
    },
  };
}
