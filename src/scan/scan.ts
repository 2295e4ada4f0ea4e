/**
 * A scan: walk the paths, read each file (skipping those over the size cap and binaries: a NUL
 * byte in the first 8 KiB), find credentials, place them (line, column), drop those an allow
 * comment covers, fingerprint the rest and mark those the baseline holds.
 *
 * Synchronous on purpose: one file at a time, read whole (at most `maxBytes`), so memory stays
 * bounded and a scan's order (and so its output) is deterministic.
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { lineAllows } from './allow.js';
import { fingerprint, PUBLIC_SALT } from './baseline.js';
import { FileScanner, isCodeFile } from './detectors.js';
import type { KnownValues } from './known.js';
import type { RuleId } from './rules.js';
import { walk, type WalkSkips } from './walk.js';

/** One credential found. It carries where and what kind, never the text. */
export interface Finding {
  readonly rule: RuleId;
  /** Path relative to the working directory, `/` separators. */
  readonly file: string;
  /** 1-based line and column (UTF-16 code units, as editors and SARIF count them) of the start. */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  /** 1-based column just past the end. */
  readonly endColumn: number;
  /** Length of the match in bytes. */
  readonly length: number;
  /** For `known-value`: the ref whose value was found. */
  readonly ref?: string;
  readonly fingerprint: string;
  /** The baseline holds this finding: reported, but not a failure. */
  readonly baselined: boolean;
}

/** Options of {@link scanPaths}. */
export interface ScanOptions {
  readonly paths: readonly string[];
  readonly cwd: string;
  /** Files larger than this are skipped. @default 1 MiB */
  readonly maxBytes?: number;
  /** Honour `.gitignore`. @default true */
  readonly gitignore?: boolean;
  readonly known?: KnownValues;
  /** The fingerprint salt (the baseline's). @default {@link PUBLIC_SALT} */
  readonly salt?: string;
  /** Fingerprints to mark as baselined. */
  readonly baseline?: ReadonlySet<string>;
  /** Called after each file with files done, files in all, bytes read. */
  readonly onProgress?: (done: number, total: number, bytes: number) => void;
}

/** What a scan found and what it read. */
export interface ScanResult {
  readonly findings: Finding[];
  /** Findings an allow comment silenced. */
  readonly allowed: number;
  readonly files: number;
  readonly bytes: number;
  readonly skipped: WalkSkips & { tooLarge: number; binary: number };
}

/** 1 MiB. */
export const DEFAULT_MAX_BYTES = 1 << 20;
const SNIFF = 8000;

/** Scans `options.paths`. Throws (code USAGE) when a path does not exist. */
export function scanPaths(options: ScanOptions): ScanResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const salt = options.salt ?? PUBLIC_SALT;
  const { files, skipped: walkSkips } = walk(options.paths, { cwd: options.cwd, gitignore: options.gitignore ?? true });
  const skipped = { ...walkSkips, tooLarge: 0, binary: 0 };
  const scanner = new FileScanner(options.known === undefined ? {} : { known: options.known });
  const findings: Finding[] = [];
  let allowed = 0;
  let scannedFiles = 0;
  let bytes = 0;
  for (const [i, f] of files.entries()) {
    if (f.size > maxBytes) {
      skipped.tooLarge++;
      options.onProgress?.(i + 1, files.length, bytes);
      continue;
    }
    const content = readCapped(f.path, maxBytes);
    if (content === undefined) {
      skipped.unreadable++;
    } else if (content === 'too-large') {
      skipped.tooLarge++;
    } else if (content.subarray(0, SNIFF).includes(0)) {
      skipped.binary++;
    } else {
      scannedFiles++;
      bytes += content.length;
      const { text, findings: raw } = scanner.scan(content, isCodeFile(f.display));
      if (raw.length > 0) {
        const lines = new LineIndex(text, content);
        for (const r of raw) {
          const at = lines.position(r.start);
          const end = lines.position(r.end);
          if (lineAllows(lines.text(at.line), r.rule) || (at.line > 1 && lineAllows(lines.text(at.line - 1), r.rule))) {
            allowed++;
            continue;
          }
          const fp = fingerprint(salt, r.rule, f.display, text.slice(r.start, r.end));
          findings.push({
            rule: r.rule,
            file: f.display,
            line: at.line,
            column: at.column,
            endLine: end.line,
            endColumn: end.column,
            length: r.end - r.start,
            ...(r.ref === undefined ? {} : { ref: r.ref }),
            fingerprint: fp,
            baselined: options.baseline?.has(fp) ?? false,
          });
        }
      }
    }
    options.onProgress?.(i + 1, files.length, bytes);
  }
  return { findings, allowed, files: scannedFiles, bytes, skipped };
}

/** Reads a whole file, unless it is (or has grown) over `max` bytes. Opened without following a link swapped in since the walk. */
function readCapped(path: string, max: number): Buffer | 'too-large' | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    if (st.size > max) return 'too-large';
    const content = readFileSync(fd);
    return content.length > max ? 'too-large' : content;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Line starts of a text, computed once a file has a finding. */
class LineIndex {
  readonly #text: string;
  readonly #bytes: Uint8Array;
  readonly #starts: number[] = [0];

  constructor(text: string, bytes: Uint8Array) {
    this.#text = text;
    this.#bytes = bytes;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }

  /** 1-based line and column (UTF-16 code units of the UTF-8 text) of a byte offset. */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = this.#starts[lo]!;
    const prefix = this.#bytes.subarray(start, offset);
    let ascii = true;
    for (const b of prefix) if (b > 127) ascii = false;
    const column = (ascii ? prefix.length : Buffer.from(prefix).toString('utf8').length) + 1;
    return { line: lo + 1, column };
  }

  /** The text of a 1-based line (Latin-1 view; the markers are ASCII). */
  text(line: number): string {
    const start = this.#starts[line - 1] ?? this.#text.length;
    const next = this.#starts[line];
    return this.#text.slice(start, next === undefined ? this.#text.length : next - 1);
  }
}
