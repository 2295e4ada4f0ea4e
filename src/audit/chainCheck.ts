import type { KeyObject } from 'node:crypto';
import type { AuditAnchorEntry } from './anchor.js';
import { BatchMac, GENESIS, endsSession, parseLine, recordOf, type AuditLine } from './record.js';

/** What a chain must also match: the writer it belongs to, and the anchored checkpoints. */
export interface ChainExpectations {
  readonly identity?: string | null | undefined;
  readonly environment?: string | undefined;
  /** Anchored checkpoints by seq (all of this chain's log). */
  readonly anchored?: ReadonlyMap<number, AuditAnchorEntry> | undefined;
  /**
   * Whether sessions that never closed, counted by the `resumed` marker of the session after
   * them, are accepted (as a log whose writer still runs is, without its closing checkpoint).
   */
  readonly acceptResumed?: boolean | undefined;
}

/** Why a chain is refused, and at which 1-based line. */
export interface ChainRefusal {
  readonly line: number;
  readonly reason: string;
}

/**
 * The most lines one MAC may cover. A writer's batch is at most its `maxBatch` (which the file
 * sink holds to this), so a longer run of unsealed lines is not a log a writer made; the bound
 * keeps a hostile file from holding the checker's memory.
 */
export const MAX_SEALED_LINES = 65_536;

/**
 * The checks of one HMAC chain, line by line, shared by the file verifier and the PostgreSQL
 * one: exact bytes, each batch's MAC over them, `seq` from 1, `prev` chaining the batches, one log
 * id, checkpoints (each sealed alone) naming the first record's writer and counting their session.
 * Feed lines in order with {@link line}, then call {@link end}; the first refusal ends the chain.
 * The lines of a batch are checked once its sealed last line arrives and its MAC verifies, so the
 * values checked come from a writer that held the key.
 *
 * @internal
 */
export class ChainCheck {
  /** Records (events and summaries) verified so far. */
  count = 0;
  /** Whether the last line verified was a checkpoint. */
  lastWasCheckpoint = false;
  /** The lines of `resumed` markers verified: where a session began after one that never closed. */
  readonly resumedAt: number[] = [];
  /** The log id of the chain, once its first batch verified. */
  logId: string | undefined;
  /** The last line that verified. */
  last: AuditLine | undefined;
  #sessionCount = 0;
  #prev = GENESIS;
  #owner: { identity: string | null; environment: string } | undefined;
  /** Whether a format 3 line was seen: a format 2 line after one is not what a writer emits. */
  #batched = false;
  /** The lines of the batch read so far (not sealed yet), with their numbers. */
  #pending: { line: AuditLine; no: number }[] = [];
  readonly #mac: BatchMac;
  readonly #expect: ChainExpectations;

  constructor(key: KeyObject, expectations: ChainExpectations = {}) {
    this.#mac = new BatchMac(key);
    this.#expect = expectations;
  }

  /** Lines read but not sealed yet (a batch whose MAC has not been reached). */
  get pending(): number {
    return this.#pending.length;
  }

  /** Checks the line at 1-based position `lineNo` (its bytes without the newline); returns why the chain is refused, or undefined. */
  line(bytes: Uint8Array, lineNo: number): ChainRefusal | undefined {
    if (bytes.length === 0) return { line: lineNo, reason: 'blank line' };
    const parsed = parseLine(bytes);
    if (typeof parsed === 'string') return { line: lineNo, reason: parsed };
    if (parsed.line.v === 3) this.#batched = true;
    else if (this.#batched) return { line: lineNo, reason: 'a format 2 line after format 3 lines: not what a writer emits' };
    if (!parsed.sealed && this.#pending.length >= MAX_SEALED_LINES) {
      return { line: this.#pending[0]!.no, reason: `more than ${MAX_SEALED_LINES} lines without a MAC: not what a writer emits` };
    }
    this.#pending.push({ line: parsed.line, no: lineNo });
    const ok = this.#mac.add(parsed);
    if (ok === undefined) return undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (!ok) {
      const first = batch[0]!.no;
      return {
        line: first,
        reason:
          batch.length === 1
            ? 'MAC mismatch: the line was edited or forged (or the key is wrong)'
            : `MAC mismatch: lines ${first} to ${lineNo}, written together and sealed by the MAC of the last, were edited, forged, moved or cut (or the key is wrong)`,
      };
    }
    for (const { line, no } of batch) {
      const reason = this.#check(line, no);
      if (reason !== undefined) return { line: no, reason };
    }
    return undefined;
  }

  /** At the end of the lines: refused when the last ones are not sealed (a write cut short, or its sealed line removed). */
  end(): ChainRefusal | undefined {
    if (this.#pending.length === 0) return undefined;
    const first = this.#pending[0]!.no;
    return { line: first, reason: `lines ${first} onwards are not sealed by a MAC: the log was cut inside a write (or its last line was removed)` };
  }

  /** The checks of one line of a batch whose MAC verified. */
  #check(line: AuditLine, lineNo: number): string | undefined {
    if (line.seq !== lineNo) return `sequence number ${line.seq} where ${lineNo} was expected: a line was deleted, inserted or moved`;
    if (line.prev !== undefined && line.prev !== this.#prev) {
      return this.logId !== undefined && line.log !== this.logId
        ? 'chain broken: the line comes from another log (its log id differs)'
        : 'chain broken: prev does not match the MAC of the write before';
    }
    const anchored = this.#expect.anchored;
    if (this.logId === undefined) {
      this.logId = line.log;
      const other = anchored?.values().next().value;
      if (other !== undefined && other.log !== this.logId) return 'the log is not the one its anchor records (another log id): it was replaced';
    } else if (line.log !== this.logId) return 'the line carries another log id than the log';
    const record = recordOf(line);
    if (this.#owner === undefined) {
      this.#owner = { identity: record.identity, environment: record.environment };
      if (this.#expect.identity !== undefined && this.#owner.identity !== this.#expect.identity) return 'the log belongs to another identity than the one expected';
      if (this.#expect.environment !== undefined && this.#owner.environment !== this.#expect.environment) return 'the log belongs to another environment than the one expected';
    } else if (!('event' in line) && (record.identity !== this.#owner.identity || record.environment !== this.#owner.environment)) {
      return `the ${nameOf(line)} names another identity or environment than the log's first record`;
    }
    const anchor = anchored?.get(line.seq);
    if (anchor !== undefined && (!('checkpoint' in line) || anchor.mac !== line.mac)) {
      return 'the anchor records another checkpoint at this line: the log was rewritten';
    }
    if (line.mac !== undefined) this.#prev = line.mac;
    if (endsSession(line)) {
      const what = nameOf(line);
      const { count } = 'checkpoint' in line ? line.checkpoint : line.resumed;
      // A writer seals these alone, so the anchor can name a checkpoint by its MAC.
      if (line.mac === undefined) return `a ${what} that is not the last line of its write: not what a writer emits`;
      if (count !== this.#sessionCount) return `${what} counts ${count} records but ${this.#sessionCount} precede it`;
      this.#sessionCount = 0;
      this.lastWasCheckpoint = 'checkpoint' in line;
      if ('resumed' in line) {
        // Only after a session that did not close: a marker after a checkpoint is not what a writer emits.
        if (this.last === undefined || 'checkpoint' in this.last) return 'a resumed marker where no session was left open: not what a writer emits';
        // A crash, or a log cut short and continued: the two look the same, so it takes a choice.
        if (this.#expect.acceptResumed !== true) {
          return 'a resumed marker: the session before it never closed (its writer was killed or crashed, or the log was cut short and continued); accepted only as an open log (requireCheckpoint: false, audit verify --allow-open)';
        }
        this.resumedAt.push(lineNo);
      }
    } else {
      this.count += 1;
      this.#sessionCount += 1;
      this.lastWasCheckpoint = false;
    }
    this.last = line;
    return undefined;
  }
}

/** What a line holds, in the words of a refusal. */
function nameOf(line: AuditLine): string {
  if ('checkpoint' in line) return 'checkpoint';
  if ('resumed' in line) return 'resumed marker';
  return 'summary' in line ? 'summary' : 'event';
}
