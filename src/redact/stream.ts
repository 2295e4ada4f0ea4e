/**
 * A Transform stream that redacts across chunk boundaries (`redactor.createRedactStream()`).
 *
 * Each chunk is scanned together with the text held back from the previous one. Everything
 * before the *cut* is emitted; the cut is the later of (a) the earliest position where a
 * registered pattern could still start and end in a later chunk (the automaton's state tells)
 * and (b) `longest pattern − 1` characters before the end, so at most that much is held back.
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

const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

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
    ranges.clear();
    if (masked > 0) ranges.push(0, masked);
    const open = ctx.scanInto(full, ranges);
    ranges.normalize();
    let cut = full.length;
    if (!final) {
      const floor = full.length - Math.max(ctx.longest - 1, 0);
      cut = Math.max(open, floor);
      if (ctx.detecting && cut > floor) {
        // Keep a trailing unfinished word back too (within the same bound), so a detector sees
        // a token whole more often.
        let t = full.length;
        while (t > floor && !isWs(full.charCodeAt(t - 1))) t--;
        cut = Math.max(floor, Math.min(cut, t));
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
        nextMasked = e - cut;
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

  return new Transform({
    transform(chunk: Buffer | string, _enc, callback) {
      try {
        const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        const out = step(text, false);
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
