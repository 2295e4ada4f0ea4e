import type { AuditEvent, AuditHitSummary, AuditSink } from './event.js';
import { GroupCommit } from './groupCommit.js';

/**
 * Options of {@link stdoutAuditSink}.
 *
 * @example
 * ```ts
 * stdoutAuditSink({ write: (lines) => process.stderr.write(lines) });
 * ```
 */
export interface StdoutAuditSinkOptions {
  /**
   * Where the lines go: called with one or more whole lines (each a JSON object and a newline),
   * all the records that arrived while the previous call was being made.
   * @default writes to process.stdout
   */
  readonly write?: (lines: string) => void | Promise<void>;
  /**
   * The most records one call of `write` takes; the rest wait for the next call.
   * @default 4096
   */
  readonly maxBatch?: number;
}

/**
 * Writes each audit event as one JSON line, `{"audit":{…}}`, and each cache-hit summary as
 * `{"auditSummary":{…}}`, to standard output, for log
 * collectors that ship container output. Records that arrive together go out in one write (group
 * commit). It is not tamper-evident: pair it with {@link fileAuditSink} where records must be
 * trusted.
 *
 * @example
 * ```ts
 * createSecrets({ environment: 'prod', providers, audit: [stdoutAuditSink(), fileAuditSink(path, { hmacKey })] });
 * ```
 */
export function stdoutAuditSink(options: StdoutAuditSinkOptions = {}): AuditSink {
  const write = options.write ?? ((lines: string) => void process.stdout.write(lines));
  const lines = new GroupCommit<string>(async (batch) => write(batch.join('')), options.maxBatch);
  return {
    write(event: AuditEvent) {
      return lines.push(JSON.stringify({ audit: event }) + '\n');
    },
    writeSummary(summary: AuditHitSummary) {
      return lines.push(JSON.stringify({ auditSummary: summary }) + '\n');
    },
    close() {
      return lines.drain();
    },
  };
}
