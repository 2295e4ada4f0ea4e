import { ConfigError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
/** The longest duration: the range of a `Date` (100,000,000 days), so any result is a usable instant offset. */
export const MAX_DURATION_MS = 8_640_000_000_000_000;
/** Longer inputs are refused before parsing: no real duration needs them. */
const MAX_TEXT = 64;

/**
 * Parses a duration such as `'30d'`, `'1h30m'`, `'500ms'` into milliseconds. Durations are
 * parsed here and nowhere else, so units are never mixed up. The result is finite and at most
 * 8.64e15 ms (what a `Date` can hold); code that uses a duration as a `setTimeout`
 * delay must also bound it by 2^31−1 ms, which Node would otherwise clamp to 1 ms.
 *
 * @param text - The duration.
 * @param field - What the text is, for the error message (e.g. `secret spec "db": rotation`).
 * @throws {@link ConfigError} naming `field` and saying why when the text is not a string, not a
 * duration, or too long. The text itself is never repeated: it may be a secret pasted into the
 * wrong field.
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * ```
 */
export function parseDuration(text: string, field = 'duration'): number {
  if (typeof text !== 'string') throw new ConfigError(`${field} must be a string such as "30d", not ${text === null ? 'null' : typeof text}`);
  const rule = 'a number with ms, s, m, h, d or w, e.g. "30d" or "1h30m"';
  if (text === '' || text.length > MAX_TEXT) throw new ConfigError(`${field} is not a duration (it is empty or longer than ${MAX_TEXT} characters; use ${rule})`);
  let total = 0;
  PART.lastIndex = 0;
  let end = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = PART.lastIndex;
  }
  if (end !== text.length) throw new ConfigError(`${field} is not a duration (use ${rule})`);
  if (!(total <= MAX_DURATION_MS)) throw new ConfigError(`${field} is longer than the longest duration, ${MAX_DURATION_MS} ms (the range of a Date)`);
  return total;
}
