import { readAnchor, type AuditAnchorEntry } from './anchor.js';
import { readLines } from './lines.js';
import { GENESIS, lineMacOk, macKey, parseLine, recordOf } from './record.js';

/**
 * Options of {@link verifyAuditLog}.
 *
 * @example
 * ```ts
 * await verifyAuditLog('audit.jsonl', { hmacKey, requireCheckpoint: false }); // a log still being written
 * await verifyAuditLog('audit.jsonl', { hmacKey, anchor: '/mnt/anchors/audit.anchor', identity: 'orders-sync', environment: 'prod' });
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
  /**
   * The external anchor the log's sink wrote (`fileAuditSink(path, { anchor })`): a file path, or
   * the entries an `AuditAnchorSink` was given, in order. Every anchored checkpoint must be in the
   * log with the same MAC, so a log cut back to an earlier checkpoint, or another log written
   * under the same key, does not verify.
   * @default no anchor
   */
  readonly anchor?: string | readonly string[];
  /**
   * The identity the log must belong to (its writer's `createSecrets({ identity })`; `null` for
   * none). Without it (or an anchor) a whole log of another writer under the same key verifies.
   * @default any identity
   */
  readonly identity?: string | null;
  /**
   * The environment the log must belong to.
   * @default any environment
   */
  readonly environment?: string;
}

/** What {@link verifyAuditLog} found. */
export interface AuditVerification {
  /** True when every line verifies and the log is complete. */
  readonly ok: boolean;
  /** How many records (event and cache-hit summary lines; checkpoints not counted) verified, up to the first invalid line. */
  readonly count: number;
  /** The 1-based number of the first line that does not verify (one past the end when the end is missing). */
  readonly firstInvalidLine?: number;
  /** Why that line does not verify. It never quotes the line: the file may not be an audit log at all. */
  readonly reason?: string;
}

/**
 * Verifies a log written by `fileAuditSink`. Each line must be exactly the bytes its writer emits
 * (one canonical form: no duplicate key, no changed whitespace, key order, escape, number form,
 * CRLF, BOM or trailing data) and its MAC must cover those bytes; `seq` must count from 1, `prev`
 * must chain each line to the one before, every line must carry the log's id, every checkpoint must
 * name the identity and environment of the log's first record, and the log must end with a
 * checkpoint counting the events of its session. An edited or forged line fails; a deleted,
 * inserted, replayed or reordered line breaks the sequence or the chain; a line or a tail from
 * another log breaks the chain; a truncated log lacks its checkpoint or ends mid-line. With
 * `anchor`, a log cut back to an earlier checkpoint, or swapped for another log, fails too. The
 * file is read as a stream of bytes.
 *
 * @example
 * ```ts
 * const result = await verifyAuditLog('audit/orders-sync.jsonl', { hmacKey, anchor: 'audit/orders-sync.anchor' });
 * if (!result.ok) throw new Error(`audit log tampered at line ${result.firstInvalidLine}: ${result.reason}`);
 * ```
 */
export async function verifyAuditLog(file: string, options: VerifyAuditLogOptions): Promise<AuditVerification> {
  const key = macKey(options.hmacKey);
  const requireCheckpoint = options.requireCheckpoint ?? true;
  let anchored: Map<number, AuditAnchorEntry> | undefined;
  let anchoredLast = 0;
  if (options.anchor !== undefined) {
    const entries = await readAnchor(options.anchor);
    if (!Array.isArray(entries)) {
      const { line, reason } = entries as { line: number; reason: string };
      return { ok: false, count: 0, firstInvalidLine: 1, reason: line === 0 ? reason : `anchor line ${line}: ${reason}` };
    }
    if (new Set(entries.map((e) => e.log)).size > 1) return { ok: false, count: 0, firstInvalidLine: 1, reason: 'the anchor holds entries of more than one log (one anchor per log)' };
    anchored = new Map(entries.map((e) => [e.seq, e]));
    anchoredLast = Math.max(0, ...entries.map((e) => e.seq));
  }

  let lineNo = 0;
  let count = 0;
  let sessionCount = 0;
  let prev = GENESIS;
  let logId: string | undefined;
  let owner: { identity: string | null; environment: string } | undefined;
  let lastWasCheckpoint = false;
  let failure: AuditVerification | undefined;

  const check = (bytes: Buffer): string | undefined => {
    if (bytes.length === 0) return 'blank line';
    const parsed = parseLine(bytes);
    if (typeof parsed === 'string') return parsed;
    if (!lineMacOk(key, parsed)) return 'MAC mismatch: the line was edited or forged (or the key is wrong)';
    const { line } = parsed;
    // Checked after the MAC: from here on the values come from a writer that held the key.
    if (line.seq !== lineNo) return `sequence number ${line.seq} where ${lineNo} was expected: a line was deleted, inserted or moved`;
    if (line.prev !== prev) {
      return logId !== undefined && line.log !== logId
        ? 'chain broken: the line comes from another log (its log id differs)'
        : 'chain broken: prev does not match the MAC of the line before';
    }
    if (logId === undefined) {
      logId = line.log;
      const other = anchored?.values().next().value;
      if (other !== undefined && other.log !== logId) return 'the log is not the one its anchor records (another log id): it was replaced';
    } else if (line.log !== logId) return 'the line carries another log id than the log';
    const record = recordOf(line);
    if (owner === undefined) {
      owner = { identity: record.identity, environment: record.environment };
      if (options.identity !== undefined && owner.identity !== options.identity) return 'the log belongs to another identity than the one expected';
      if (options.environment !== undefined && owner.environment !== options.environment) return 'the log belongs to another environment than the one expected';
    } else if (!('event' in line) && (record.identity !== owner.identity || record.environment !== owner.environment)) {
      return `the ${'checkpoint' in line ? 'checkpoint' : 'summary'} names another identity or environment than the log's first record`;
    }
    const anchor = anchored?.get(line.seq);
    if (anchor !== undefined && (!('checkpoint' in line) || anchor.mac !== line.mac)) {
      return 'the anchor records another checkpoint at this line: the log was rewritten';
    }
    prev = line.mac;
    if ('checkpoint' in line) {
      if (line.checkpoint.count !== sessionCount) return `checkpoint counts ${line.checkpoint.count} records but ${sessionCount} precede it`;
      sessionCount = 0;
      lastWasCheckpoint = true;
    } else {
      count += 1;
      sessionCount += 1;
      lastWasCheckpoint = false;
    }
    return undefined;
  };

  const end = await readLines(file, (bytes, n) => {
    lineNo = n;
    const reason = check(bytes);
    if (reason !== undefined) failure = { ok: false, count, firstInvalidLine: n, reason };
    return reason === undefined;
  });
  if (failure !== undefined) return failure;
  if (!end.done) return { ok: false, count, firstInvalidLine: end.line, reason: end.reason };
  if (lineNo === 0) return { ok: false, count, firstInvalidLine: 1, reason: 'the log is empty' };
  const past = lineNo + 1;
  if (requireCheckpoint && !lastWasCheckpoint) {
    return { ok: false, count, firstInvalidLine: past, reason: 'the log does not end with a signed checkpoint: it was truncated, or its writer did not close' };
  }
  if (anchored !== undefined) {
    if (anchoredLast > lineNo) {
      return { ok: false, count, firstInvalidLine: past, reason: `the log ends at line ${lineNo} but its anchor records a checkpoint at line ${anchoredLast}: lines were cut` };
    }
    if (anchoredLast === 0 && requireCheckpoint) {
      return { ok: false, count, firstInvalidLine: past, reason: 'the anchor records no checkpoint: it is not the anchor of this log, or its writer never closed' };
    }
  }
  return { ok: true, count };
}
