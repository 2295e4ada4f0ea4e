import type { KeyObject } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { AuditWriteError } from '../errors.js';
import { MAX_SEALED_LINES } from './chainCheck.js';
import { MAX_LINE_BYTES } from './lines.js';
import { BatchMac, parseLine, type ParsedLine } from './record.js';

/** How much of the file is read at first; doubled while a write's lines reach past it. */
const WINDOW = 65_536;

const LONG = `a line longer than ${MAX_LINE_BYTES} bytes: not an audit record`;

/**
 * The lines of the log's last write, parsed (its unsealed lines, then the sealed line that ends
 * it), undefined for an empty file, or why they are not a write a writer made. Read backwards from
 * the end, so a long log is not read whole.
 */
export async function lastWrite(h: FileHandle): Promise<ParsedLine[] | string | undefined> {
  const { size } = await h.stat();
  if (size === 0) return undefined;
  for (let window = WINDOW; ; window *= 2) {
    const start = Math.max(0, size - window);
    const buf = Buffer.alloc(size - start);
    await h.read(buf, 0, buf.length, start);
    if (buf[buf.length - 1] !== 0x0a) throw new AuditWriteError('the audit log ends with an incomplete line; run `connector-secrets audit verify`');
    const lines: ParsedLine[] = [];
    // `end`: where the newline of the line being read is.
    for (let end = buf.length - 1; ; ) {
      const cut = end === 0 ? -1 : buf.lastIndexOf(0x0a, end - 1);
      // A hostile file is not read whole for one line: no audit line is this long.
      if (end - (cut + 1) > MAX_LINE_BYTES) return LONG;
      if (cut === -1 && start > 0) break; // the line starts before the window: read more
      const parsed = parseLine(buf.subarray(cut + 1, end));
      if (typeof parsed === 'string') return parsed;
      if (lines.length === 0 && !parsed.sealed) return 'it ends with lines no MAC covers (a write cut short)';
      // The sealed line of the write before ends the search.
      if (lines.length > 0 && parsed.sealed) return lines.reverse();
      lines.push(parsed);
      if (lines.length > MAX_SEALED_LINES) return 'its last write is longer than any writer makes';
      if (cut === -1) return lines.reverse();
      end = cut;
    }
  }
}

/** The lines of the log's first write, parsed, or why they are not a write a writer made. */
export async function firstWrite(h: FileHandle): Promise<ParsedLine[] | string> {
  const { size } = await h.stat();
  for (let window = WINDOW; ; window *= 2) {
    const buf = Buffer.alloc(Math.min(size, window));
    await h.read(buf, 0, buf.length, 0);
    const lines: ParsedLine[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl !== -1; start = nl + 1, nl = buf.indexOf(0x0a, start)) {
      if (nl - start > MAX_LINE_BYTES) return LONG;
      const parsed = parseLine(buf.subarray(start, nl));
      if (typeof parsed === 'string') return parsed;
      lines.push(parsed);
      if (parsed.sealed) return lines;
      if (lines.length > MAX_SEALED_LINES) return 'its first write is longer than any writer makes';
    }
    if (buf.length - start > MAX_LINE_BYTES) return LONG;
    if (buf.length === size) return 'no line of it is sealed';
  }
}

/** Whether one write's lines verify under `key`: its MAC, consecutive `seq`s, one log id. */
export function writeVerifies(key: KeyObject, lines: readonly ParsedLine[]): boolean {
  const mac = new BatchMac(key);
  let ok: boolean | undefined;
  for (const l of lines) ok = mac.add(l);
  const first = lines[0]!.line;
  return ok === true && lines.every((l, i) => l.line.seq === first.seq + i && l.line.log === first.log);
}

/**
 * How many lines follow the log's last checkpoint or `resumed` marker (all of them when it has
 * none): the records of a session that never closed. Read backwards in chunks, looking only for
 * the two keys, which canonical JSON cannot hold inside a string (its quotes would be escaped), so
 * a long session costs a scan for newlines, not a parse of every line.
 */
export async function recordsSinceSessionEnd(h: FileHandle): Promise<number> {
  const { size } = await h.stat();
  const marks = [Buffer.from('"checkpoint":{'), Buffer.from('"resumed":{')];
  // Chunks overlap by a mark's length, so a mark across two chunks is found in the earlier one.
  const overlap = Math.max(...marks.map((m) => m.length));
  let after = 0;
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - CHUNK);
    const buf = Buffer.alloc(Math.min(size, end + overlap) - start);
    await h.read(buf, 0, buf.length, start);
    const at = Math.max(...marks.map((m) => buf.lastIndexOf(m)));
    // Newlines after the mark, less the one that ends its own line.
    if (at !== -1) return after + newlines(buf.subarray(at, end - start)) - 1;
    after += newlines(buf.subarray(0, end - start));
    end = start;
  }
  return after;
}

const CHUNK = 1024 * 1024;

function newlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) n += 1;
  return n;
}
