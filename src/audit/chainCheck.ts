import type { KeyObject } from 'node:crypto';
import type { AuditAnchorEntry } from './anchor.js';
import { GENESIS, lineMacOk, parseLine, recordOf, type AuditLine } from './record.js';

/** What a chain must also match: the writer it belongs to, and the anchored checkpoints. */
export interface ChainExpectations {
  readonly identity?: string | null | undefined;
  readonly environment?: string | undefined;
  /** Anchored checkpoints by seq (all of this chain's log). */
  readonly anchored?: ReadonlyMap<number, AuditAnchorEntry> | undefined;
}

/**
 * The checks of one HMAC chain, line by line, shared by the file verifier and the PostgreSQL
 * one: exact bytes, MAC over them, `seq` from 1, `prev` chaining, one log id, checkpoints naming
 * the first record's writer and counting their session. Feed lines in order with {@link line};
 * the first refusal ends the chain.
 *
 * @internal
 */
export class ChainCheck {
  /** Records (events and summaries) verified so far. */
  count = 0;
  /** Whether the last line verified was a checkpoint. */
  lastWasCheckpoint = false;
  /** The log id of the chain, once its first line verified. */
  logId: string | undefined;
  /** The last line that verified. */
  last: AuditLine | undefined;
  #sessionCount = 0;
  #prev = GENESIS;
  #owner: { identity: string | null; environment: string } | undefined;
  readonly #key: KeyObject;
  readonly #expect: ChainExpectations;

  constructor(key: KeyObject, expectations: ChainExpectations = {}) {
    this.#key = key;
    this.#expect = expectations;
  }

  /** Checks the line at 1-based position `lineNo` (its bytes without the newline); returns why it is refused, or undefined. */
  line(bytes: Uint8Array, lineNo: number): string | undefined {
    if (bytes.length === 0) return 'blank line';
    const parsed = parseLine(bytes);
    if (typeof parsed === 'string') return parsed;
    if (!lineMacOk(this.#key, parsed)) return 'MAC mismatch: the line was edited or forged (or the key is wrong)';
    const { line } = parsed;
    // Checked after the MAC: from here on the values come from a writer that held the key.
    if (line.seq !== lineNo) return `sequence number ${line.seq} where ${lineNo} was expected: a line was deleted, inserted or moved`;
    if (line.prev !== this.#prev) {
      return this.logId !== undefined && line.log !== this.logId
        ? 'chain broken: the line comes from another log (its log id differs)'
        : 'chain broken: prev does not match the MAC of the line before';
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
      return `the ${'checkpoint' in line ? 'checkpoint' : 'summary'} names another identity or environment than the log's first record`;
    }
    const anchor = anchored?.get(line.seq);
    if (anchor !== undefined && (!('checkpoint' in line) || anchor.mac !== line.mac)) {
      return 'the anchor records another checkpoint at this line: the log was rewritten';
    }
    this.#prev = line.mac;
    if ('checkpoint' in line) {
      if (line.checkpoint.count !== this.#sessionCount) return `checkpoint counts ${line.checkpoint.count} records but ${this.#sessionCount} precede it`;
      this.#sessionCount = 0;
      this.lastWasCheckpoint = true;
    } else {
      this.count += 1;
      this.#sessionCount += 1;
      this.lastWasCheckpoint = false;
    }
    this.last = line;
    return undefined;
  }
}
