import { readAnchor, type AuditAnchorEntry } from './anchor.js';
import { readLines } from './lines.js';
import { ChainCheck } from './chainCheck.js';
import { macKey } from './record.js';

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
   * Whether every session of the log must have closed with a signed checkpoint (written when its
   * sink closed). With `false`, a log still being written is accepted, and so are earlier sessions
   * whose writer was killed, each counted by the `resumed` marker the next writer put first (see
   * `resumedAt`). Either way a log cut short at a write boundary cannot be told from one still
   * being written, or from a killed one.
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
  /**
   * The 1-based number of the first line that does not verify (one past the end when the end is
   * missing). When a write's MAC does not match, the first line of that write: one MAC covers it.
   */
  readonly firstInvalidLine?: number;
  /** Why that line does not verify. It never quotes the line: the file may not be an audit log at all. */
  readonly reason?: string;
  /**
   * The lines of `resumed` markers, when the log has any (accepted with `requireCheckpoint:
   * false`): each begins a session after one that never closed (its writer was killed or crashed)
   * and counts that session's records in its place. A log cut short and then continued looks the
   * same, so these lines are worth matching against the kills you know of.
   */
  readonly resumedAt?: readonly number[];
}

/**
 * Verifies a log written by `fileAuditSink`. Each line must be exactly the bytes its writer emits
 * (one canonical form: no duplicate key, no changed whitespace, key order, escape, number form,
 * CRLF, BOM or trailing data) and the MAC on the last line of each write must cover the bytes of
 * that write; `seq` must count from 1, `prev` must chain each write to the one before (format 2
 * logs: each line), every line must carry the log's id, every checkpoint must
 * name the identity and environment of the log's first record, and the log must end with a
 * checkpoint counting the events of its session (a session that never closed is counted by the
 * `resumed` marker the next writer put first). An edited or forged line fails; a deleted,
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
  const chain = new ChainCheck(key, { identity: options.identity, environment: options.environment, anchored, acceptResumed: !requireCheckpoint });
  let failure: AuditVerification | undefined;

  const end = await readLines(file, (bytes, n) => {
    lineNo = n;
    const refused = chain.line(bytes, n);
    if (refused !== undefined) failure = { ok: false, count: chain.count, firstInvalidLine: refused.line, reason: refused.reason };
    return refused === undefined;
  });
  if (failure !== undefined) return failure;
  if (!end.done) {
    // Inside a write, the lines before the one that stopped the read are not verified either.
    const open = chain.end();
    return open === undefined
      ? { ok: false, count: chain.count, firstInvalidLine: end.line, reason: end.reason }
      : { ok: false, count: chain.count, firstInvalidLine: open.line, reason: `line ${end.line}: ${end.reason}; it is inside a write that began at line ${open.line}, whose MAC is never reached` };
  }
  const unsealed = chain.end();
  if (unsealed !== undefined) return { ok: false, count: chain.count, firstInvalidLine: unsealed.line, reason: unsealed.reason };
  if (lineNo === 0) return { ok: false, count: chain.count, firstInvalidLine: 1, reason: 'the log is empty' };
  const past = lineNo + 1;
  if (requireCheckpoint && !chain.lastWasCheckpoint) {
    return { ok: false, count: chain.count, firstInvalidLine: past, reason: 'the log does not end with a signed checkpoint: it was truncated, or its writer did not close' };
  }
  if (anchored !== undefined) {
    if (anchoredLast > lineNo) {
      return { ok: false, count: chain.count, firstInvalidLine: past, reason: `the log ends at line ${lineNo} but its anchor records a checkpoint at line ${anchoredLast}: lines were cut` };
    }
    if (anchoredLast === 0 && requireCheckpoint) {
      return { ok: false, count: chain.count, firstInvalidLine: past, reason: 'the anchor records no checkpoint: it is not the anchor of this log, or its writer never closed' };
    }
  }
  return chain.resumedAt.length === 0 ? { ok: true, count: chain.count } : { ok: true, count: chain.count, resumedAt: chain.resumedAt };
}
