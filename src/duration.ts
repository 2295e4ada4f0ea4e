import { ConfigError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Parses a duration such as `'30d'`, `'1h30m'`, `'500ms'` into milliseconds. Durations are
 * parsed here and nowhere else, so units are never mixed up.
 *
 * @throws {@link ConfigError} when the text is not a duration.
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * ```
 */
export function parseDuration(text: string): number {
  let total = 0;
  PART.lastIndex = 0;
  let end = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = PART.lastIndex;
  }
  if (text === '' || end !== text.length) {
    throw new ConfigError(`"${text}" is not a duration (use a number with ms, s, m, h, d or w, e.g. "30d")`);
  }
  return total;
}
