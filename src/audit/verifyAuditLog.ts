import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { GENESIS, bodyOf, lineMac, macKey, parseLine, sameMac } from './record.js';

/**
 * Options of {@link verifyAuditLog}.
 *
 * @example
 * ```ts
 * await verifyAuditLog('audit.jsonl', { hmacKey, requireCheckpoint: false }); // a log still being written
 * ```
 */
export interface VerifyAuditLogOptions {
  /** The key the log was written with. */
  readonly hmacKey: string | Uint8Array;
  /**
   * Whether the log must end with a signed checkpoint (written when its sink closed). Without it a
   * log cut short at a line boundary cannot be told from one still being written.
   * @default true
   */
  readonly requireCheckpoint?: boolean;
}

/** What {@link verifyAuditLog} found. */
export interface AuditVerification {
  /** True when every line verifies and the log is complete. */
  readonly ok: boolean;
  /** How many event lines verified (checkpoints not counted), up to the first invalid line. */
  readonly count: number;
  /** The 1-based number of the first line that does not verify (one past the end when the end is missing). */
  readonly firstInvalidLine?: number;
  /** Why that line does not verify. */
  readonly reason?: string;
}

/**
 * Verifies a log written by `fileAuditSink`: every line's MAC under `hmacKey`, the `prev` chain,
 * the sequence numbers and the closing checkpoint. An edited line fails its MAC; a deleted,
 * inserted, replayed or reordered line breaks the sequence or the chain; a truncated log lacks
 * its checkpoint or ends mid-line. The file is read as a stream.
 *
 * @example
 * ```ts
 * const result = await verifyAuditLog('audit/orders-sync.jsonl', { hmacKey });
 * if (!result.ok) throw new Error(`audit log tampered at line ${result.firstInvalidLine}: ${result.reason}`);
 * ```
 */
export async function verifyAuditLog(file: string, options: VerifyAuditLogOptions): Promise<AuditVerification> {
  const key = macKey(options.hmacKey);
  const requireCheckpoint = options.requireCheckpoint ?? true;
  let lineNo = 0;
  let count = 0;
  let sessionCount = 0;
  let prev = GENESIS;
  let lastWasCheckpoint = false;
  let failure: AuditVerification | undefined;

  const check = (text: string): AuditVerification | undefined => {
    lineNo += 1;
    const invalid = (reason: string): AuditVerification => ({ ok: false, count, firstInvalidLine: lineNo, reason });
    if (text === '') return invalid('blank line');
    const line = parseLine(text);
    if (typeof line === 'string') return invalid(line);
    if (!sameMac(line.mac, lineMac(key, line.prev, bodyOf(line)))) {
      return invalid('MAC mismatch: the line was edited or forged (or the key is wrong)');
    }
    if (line.seq !== lineNo) {
      return invalid(`sequence number ${line.seq} where ${lineNo} was expected: a line was deleted, inserted or moved`);
    }
    if (line.prev !== prev) return invalid('chain broken: prev does not match the MAC of the line before');
    prev = line.mac;
    if ('checkpoint' in line) {
      if (line.checkpoint.count !== sessionCount) {
        return invalid(`checkpoint counts ${line.checkpoint.count} events but ${sessionCount} precede it`);
      }
      sessionCount = 0;
      lastWasCheckpoint = true;
    } else {
      count += 1;
      sessionCount += 1;
      lastWasCheckpoint = false;
    }
    return undefined;
  };

  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of createReadStream(file)) {
      if (failure !== undefined) break;
      rest += decoder.write(chunk as Buffer);
      let start = 0;
      for (let nl = rest.indexOf('\n'); nl !== -1 && failure === undefined; nl = rest.indexOf('\n', start)) {
        failure = check(rest.slice(start, nl));
        start = nl + 1;
      }
      rest = rest.slice(start);
    }
  } catch (err) {
    return { ok: false, count, firstInvalidLine: lineNo + 1, reason: `the log cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (failure !== undefined) return failure;
  rest += decoder.end();
  if (rest !== '') return { ok: false, count, firstInvalidLine: lineNo + 1, reason: 'the last line is incomplete: the log was truncated' };
  if (lineNo === 0) return { ok: false, count, firstInvalidLine: 1, reason: 'the log is empty' };
  if (requireCheckpoint && !lastWasCheckpoint) {
    return {
      ok: false,
      count,
      firstInvalidLine: lineNo + 1,
      reason: 'the log does not end with a signed checkpoint: it was truncated, or its writer did not close',
    };
  }
  return { ok: true, count };
}
