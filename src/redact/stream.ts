/**
 * A Transform stream that redacts across chunk boundaries (`redactor.createRedactStream()`).
 *
 * Its output is exactly `redactor.redact(whole input)` however the input is split (strings or
 * bytes, inside a UTF-8 sequence or a surrogate pair), as long as the text it has to hold back
 * stays within {@link MAX_HOLD_BACK}.
 *
 * Each chunk is scanned together with the text held back from the previous one. Everything
 * before the *cut* is emitted. The cut is never after:
 * - the earliest position where a registered pattern could still start and end in a later chunk
 *   (the automaton's state tells), nor more than `longest pattern − 1` characters before the end;
 * - with detectors on, the start of the line (after `\n` or `\r`) the cut would fall in, so
 *   the unfinished last line is held whole: a detector's verdict on a line (`password=…` runs to whitespace,
 *   `Authorization:` to the end of the line, a JWT needs its third part) is final only once the
 *   line is, and the text in front of a value (the key, the scheme) decides it; no detector
 *   reads across a newline except the PEM body, which the next rule covers;
 * - with detectors on, the start of the line holding the start of a masked range that reaches
 *   the end of the text: it may still grow (an unterminated quoted value, a PEM body waiting for
 *   its END line), and the trigger in front of it (the key, the BEGIN line) must be scanned again.
 * A masked range that crosses the cut is emitted as one placeholder now; the held-back part of
 * it is remembered as already masked, so it is neither shown nor masked twice.
 *
 * @module
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform } from 'node:stream';
import { Ranges } from './ranges.js';

/**
 * Options of `redactor.createRedactStream()`.
 *
 * @example
 * ```ts
 * child.stdout.pipe(secrets.redactor.createRedactStream({ encoding: 'utf8' })).pipe(process.stdout);
 * ```
 */
export interface RedactStreamOptions {
  /**
   * How incoming bytes are decoded, and outgoing text encoded. `latin1` is lossless for any
   * bytes (use it for binary or unknown encodings); `utf8` decodes multi-byte characters split
   * across chunks correctly.
   * @default 'utf8'
   */
  readonly encoding?: 'utf8' | 'latin1';
}

/** What the stream needs from the redactor. */
export interface StreamContext {
  readonly placeholder: string;
  readonly longest: number;
  readonly detecting: boolean;
  scanInto(text: string, ranges: Ranges): number;
}

/**
 * With detectors on, the most a stream holds back waiting for the end of a line (or of a masked
 * range): beyond it the text is cut anyway, so a stream without newlines still flows, and split
 * invariance is no longer guaranteed for that text. Never less than the longest pattern − 1.
 */
export const MAX_HOLD_BACK = 64 * 1024;

/** Creates the Transform; see the module comment for how much it holds back. */
export function createRedactStream(ctx: StreamContext, options: RedactStreamOptions = {}): Transform {
  const encoding = options.encoding ?? 'utf8';
  const decoder = new StringDecoder(encoding);
  const ranges = new Ranges();
  let pending = '';
  /** How many leading code units of `pending` an emitted placeholder already stands for. */
  let masked = 0;
  /** Whether the output so far ends with a placeholder that a range at `pending`'s start continues. */
  let joined = false;

  const step = (text: string, final: boolean): string => {
    const full = pending + text;
    if (full.length === 0) return '';
    // With detectors on, a chunk that ends no line may simply be held (holding more is always
    // correct; the next line end, the bound or the end of input scans it): skip the scan, so a
    // line written a few bytes at a time is not scanned again with every write.
    if (!final && ctx.detecting && full.length <= MAX_HOLD_BACK && text.indexOf('\n') === -1 && text.indexOf('\r') === -1) {
      pending = full;
      return '';
    }
    ranges.clear();
    if (masked > 0) ranges.push(0, masked);
    const open = ctx.scanInto(full, ranges);
    ranges.normalize();
    let cut = full.length;
    if (!final) {
      const bound = Math.max(ctx.longest - 1, 0);
      cut = Math.max(open, full.length - bound);
      if (ctx.detecting) {
        const n = ranges.count;
        // A range reaching the end may still grow: keep it back with the trigger in front of it.
        if (n > 0 && ranges.end(n - 1) >= full.length) cut = Math.min(cut, ranges.start(n - 1));
        // Detectors see whole lines only: cut at the start of the line the cut falls in. A bare
        // `\r` ends a line too (no detector value runs across one unless a quote or PEM body is
        // still open, which the rule above holds back), so progress output keeps flowing.
        cut = cut === 0 ? 0 : Math.max(full.lastIndexOf('\n', cut - 1), full.lastIndexOf('\r', cut - 1)) + 1;
        cut = Math.max(cut, full.length - Math.max(bound, MAX_HOLD_BACK));
      }
      // Never split a surrogate pair.
      const last = full.charCodeAt(cut - 1);
      if (cut > 0 && cut < full.length && last >= 0xd800 && last <= 0xdbff) cut -= 1;
    }
    let out = '';
    let from = 0;
    let nextMasked = 0;
    // Nothing emitted this time: a placeholder still open at the start stays open.
    let nextJoined = cut === 0 && joined;
    for (let i = 0; i < ranges.count; i++) {
      const s = ranges.start(i);
      const e = ranges.end(i);
      if (s >= cut && !(s === 0 && joined)) break;
      out += full.slice(from, Math.min(s, cut));
      // A range at the start that continues the placeholder already sent is not sent again.
      if (!(s === 0 && joined)) out += ctx.placeholder;
      if (!final && e >= cut) {
        // A range reaching the cut may go on (or be touched by the next one): one placeholder.
        // With nothing emitted (cut 0) only what was already masked stays so: the rest of the
        // range may be a detector's guess that more text undoes.
        nextMasked = cut === 0 ? masked : e - cut;
        nextJoined = true;
        from = cut;
        break;
      }
      from = e;
    }
    if (from < cut) out += full.slice(from, cut);
    pending = full.slice(cut);
    masked = nextMasked;
    joined = nextJoined;
    return out;
  };

  /** Decodes one written chunk; strings arrive as written (`decodeStrings: false`), so a surrogate pair split between two writes is joined again. */
  const decode = (chunk: Buffer | string, enc: BufferEncoding | 'buffer'): string => {
    if (typeof chunk !== 'string') return decoder.write(chunk);
    if (encoding === 'utf8' && (enc === 'utf8' || enc === 'utf-8')) return decoder.end() + chunk;
    return decoder.write(Buffer.from(chunk, enc === 'buffer' ? 'utf8' : enc));
  };

  return new Transform({
    decodeStrings: false,
    transform(chunk: Buffer | string, enc: BufferEncoding | 'buffer', callback) {
      try {
        const out = step(decode(chunk, enc), false);
        callback(null, out.length > 0 ? Buffer.from(out, encoding) : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        const out = step(decoder.end(), true);
        callback(null, out.length > 0 ? Buffer.from(out, encoding) : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
