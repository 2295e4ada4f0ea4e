import { open, readFile, type FileHandle } from 'node:fs/promises';
import { writeAll } from './writeAll.js';
import { parseStrictJson } from './strictJson.js';

/**
 * Where a file audit sink records how far its log reached: an append-only place its writer does
 * not rewrite (a file on another volume or made append-only with `chattr +a`, a write-once bucket,
 * a remote log). Each entry is one line of text ending in `\n`; keep them in order and hand them
 * back to {@link verifyAuditLog} as `anchor: lines`.
 *
 * @example
 * ```ts
 * const anchor: AuditAnchorSink = { append: (entry) => siem.send('audit-anchor', entry) };
 * fileAuditSink('audit.jsonl', { hmacKey, anchor });
 * ```
 */
export interface AuditAnchorSink {
  /** Appends one entry (a line of text ending in `\n`); a throw or rejection fails the sink's close. */
  append(entry: string): void | Promise<void>;
  /** Releases the anchor; called when the audit sink closes. */
  close?(): Promise<void>;
}

/** One anchor entry: line `seq` of log `log` has MAC `mac`. */
export interface AuditAnchorEntry {
  readonly log: string;
  readonly seq: number;
  readonly mac: string;
}

/** The anchor's own format version: unchanged when log records moved to sealed batches (format 3). */
const ANCHOR_VERSION = 2;

/** The one text of an anchor entry: `{"v":2,"anchor":"checkpoint","log":…,"seq":N,"mac":…}` and a newline. */
export function formatAnchorEntry(entry: AuditAnchorEntry): string {
  return `{"v":${ANCHOR_VERSION},"anchor":"checkpoint","log":"${entry.log}","seq":${entry.seq},"mac":"${entry.mac}"}\n`;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** Parses one anchor line (without its newline); returns why it is refused, never quoting it. */
function parseAnchorEntry(text: string): AuditAnchorEntry | string {
  const parsed = parseStrictJson(text);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return 'not an anchor entry';
  const r = parsed.value as Record<string, unknown>;
  if (typeof r['log'] !== 'string' || !HEX32.test(r['log']) || !Number.isSafeInteger(r['seq']) || (r['seq'] as number) < 1) return 'not an anchor entry';
  if (typeof r['mac'] !== 'string' || !HEX64.test(r['mac'])) return 'not an anchor entry';
  const entry = { log: r['log'], seq: r['seq'] as number, mac: r['mac'] };
  if (formatAnchorEntry(entry) !== `${text}\n`) return 'not an anchor entry in the form the writer emits';
  return entry;
}

/**
 * The entries of an anchor: a file path, or the lines an {@link AuditAnchorSink} was given.
 * Returns the entries in order, or the 1-based line of the anchor that is refused and why.
 */
export async function readAnchor(source: string | readonly string[]): Promise<AuditAnchorEntry[] | { line: number; reason: string }> {
  let lines: readonly string[];
  if (typeof source === 'string') {
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (err) {
      return { line: 0, reason: `the anchor cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
    if (text !== '' && !text.endsWith('\n')) return { line: text.split('\n').length, reason: 'the last anchor line is incomplete' };
    lines = text === '' ? [] : text.slice(0, -1).split('\n');
  } else {
    lines = source.map((l) => (l.endsWith('\n') ? l.slice(0, -1) : l));
  }
  const entries: AuditAnchorEntry[] = [];
  for (const [i, text] of lines.entries()) {
    const entry = parseAnchorEntry(text);
    if (typeof entry === 'string') return { line: i + 1, reason: entry };
    entries.push(entry);
  }
  return entries;
}

/**
 * An {@link AuditAnchorSink} that appends to a file (created with mode 0600, opened for append
 * only, each entry flushed to disk); the audit sink wraps its failures. It never rewrites or truncates the file; put it where the
 * log's writer cannot rewrite it either, or it anchors nothing.
 */
export function fileAnchorSink(file: string): AuditAnchorSink {
  let handle: Promise<FileHandle> | undefined;
  return {
    async append(entry) {
      const h = await (handle ??= open(file, 'a', 0o600));
      await writeAll(h, Buffer.from(entry, 'utf8'));
      await h.datasync();
    },
    async close() {
      const h = handle;
      handle = undefined;
      // An open that failed holds nothing to release.
      if (h !== undefined) await (await h.catch(() => undefined))?.close();
    },
  };
}
