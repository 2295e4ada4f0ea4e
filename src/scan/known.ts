/**
 * The values the configured providers hold, matched in scanned text with the redactor's
 * Aho–Corasick automaton: each value in every form the redactor derives (raw, base64 and
 * base64url in every alignment, URL-encoded, JSON-escaped, util.inspect-escaped, UTF-8 read as
 * Latin-1 …), each line of a multi-line value, and each string field of a JSON value. A match
 * reports the ref it came from; the value is never kept beyond the automaton's trie.
 *
 * @module
 */
import { Automaton } from '../redact/automaton.js';
import { deriveBinaryForms, deriveForms, type DerivedForm } from '../redact/derive.js';
import { DEFAULT_ALLOWLIST } from '../redact/options.js';

/** A value skipped because matching it would flood the report (too short or a common word); names the ref only. */
export interface SkippedKnownValue {
  readonly ref: string;
  readonly reason: 'SHORT_VALUE' | 'COMMON_WORD';
}

/** Receives a match: `[start, end)` in the scanned text and the ref whose value it is. */
export type KnownSink = (start: number, end: number, ref: string) => void;

const ALLOW = new Set(DEFAULT_ALLOWLIST);

/** The known values of one scan. */
export class KnownValues {
  readonly #automaton = new Automaton();
  readonly #refs: string[] = [];
  readonly #minLength: number;
  /** Values not added, by ref. */
  readonly skipped: SkippedKnownValue[] = [];

  /** @param minLength Values (and lines, fields) shorter than this are not matched: they would match everywhere. */
  constructor(minLength = 6) {
    this.#minLength = minLength;
  }

  /** Number of patterns (forms) registered. */
  get size(): number {
    return this.#automaton.size;
  }

  /** Registers the value of `ref` in all its forms. Returns the number of new patterns. */
  add(ref: string, value: string | Uint8Array): number {
    const id = this.#refs.length;
    this.#refs.push(ref);
    const forms: DerivedForm[] = [];
    if (typeof value === 'string') {
      const trimmed = value.trim();
      if (ALLOW.has(trimmed.toLowerCase())) {
        this.skipped.push({ ref, reason: 'COMMON_WORD' });
        return 0;
      }
      if (trimmed.length < this.#minLength) {
        this.skipped.push({ ref, reason: 'SHORT_VALUE' });
        return 0;
      }
      forms.push(...deriveForms(value, this.#minLength));
      if (trimmed !== value) forms.push(...deriveForms(trimmed, this.#minLength));
      if (/[\r\n]/.test(value)) {
        for (const raw of value.split(/\r?\n|\r/)) {
          const line = raw.trim();
          // PEM armour lines are in every key; the body lines are what is secret.
          if (line.length >= this.#minLength && !/^-{5}(BEGIN|END) /.test(line) && !ALLOW.has(line.toLowerCase())) forms.push(...deriveForms(line, this.#minLength));
        }
      }
      if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
        try {
          for (const field of stringFields(JSON.parse(trimmed) as unknown, 0)) {
            if (field.trim().length >= this.#minLength && !ALLOW.has(field.trim().toLowerCase())) forms.push(...deriveForms(field, this.#minLength));
          }
        } catch {
          // Not JSON: the whole value and its lines are registered already.
        }
      }
    } else {
      if (value.byteLength < this.#minLength) {
        this.skipped.push({ ref, reason: 'SHORT_VALUE' });
        return 0;
      }
      forms.push(...deriveBinaryForms(value, this.#minLength));
    }
    let added = 0;
    for (const f of forms) if (this.#automaton.add(f.text, id)) added++;
    return added;
  }

  /** Reports every match in `text` (`bytes`: its Latin-1 view). */
  scan(text: string, bytes: Uint8Array, sink: KnownSink): void {
    if (this.#automaton.size === 0) return;
    const a = this.#automaton;
    a.scan(text, (start, end, node) => sink(start, end, this.#refs[a.idOf(node)] ?? '(unknown)'), bytes);
  }
}

/** The string fields of a parsed JSON value, depth-first (bounded depth). */
function stringFields(v: unknown, depth: number): string[] {
  if (depth > 32) return [];
  if (typeof v === 'string') return [v];
  if (typeof v !== 'object' || v === null) return [];
  return Object.values(v).flatMap((x) => stringFields(x, depth + 1));
}
