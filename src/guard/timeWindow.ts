import { ConfigError } from '../errors.js';

/** A daily window in minutes since local midnight: `[start, end)`, wrapping past midnight when `end <= start`. */
export interface DailyWindow {
  /** The window as written, e.g. `'01:00-05:00'`. */
  readonly source: string;
  /** Start, in minutes since local midnight. */
  readonly startMinute: number;
  /** End (exclusive), in minutes since local midnight. */
  readonly endMinute: number;
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Every UTC offset and every daylight-saving change falls on a quarter hour, so one lookup serves a quarter hour. */
const QUARTER_MS = 900_000;
const quarters = new Map<string, { quarter: number; minute: number }>();

/**
 * Parses a daily window such as `'01:00-05:00'` (24-hour clock; the end is exclusive; `'22:00-02:00'`
 * wraps past midnight; `'00:00-24:00'` is the whole day).
 *
 * @throws {@link ConfigError} when the text is not a window.
 * @example
 * ```ts
 * parseDailyWindow('01:00-05:00'); // { startMinute: 60, endMinute: 300 }
 * ```
 */
export function parseDailyWindow(source: string): DailyWindow {
  // The text is never repeated in an error: it may be a secret pasted into the wrong field.
  const m = typeof source === 'string' ? WINDOW.exec(source) : null;
  if (m === null) throw new ConfigError('not a daily window (use HH:MM-HH:MM on a 24-hour clock, e.g. "01:00-05:00")');
  const startMinute = Number(m[1]) * 60 + Number(m[2]);
  const endMinute = Number(m[3]) * 60 + Number(m[4]);
  if (endMinute > 24 * 60) throw new ConfigError('the daily window ends after 24:00');
  if (startMinute === endMinute) throw new ConfigError('the daily window is empty (start equals end)');
  return { source, startMinute, endMinute };
}

/**
 * Throws {@link ConfigError} naming `field` (never the value) unless `timeZone` is an IANA time
 * zone this runtime knows.
 *
 * @example
 * ```ts
 * assertTimeZone('Europe/Berlin');
 * ```
 */
export function assertTimeZone(timeZone: string, field = 'timeZone'): void {
  try {
    formatter(timeZone);
  } catch {
    // Neither the name nor Intl's message (which quotes it) is repeated, and no cause is kept.
    throw new ConfigError(`${field} is not an IANA time zone this runtime knows (e.g. "Europe/Berlin")`);
  }
}

/**
 * Minutes since local midnight of the instant `epochMs` in `timeZone` (from `Intl.DateTimeFormat`,
 * so daylight-saving changes follow the zone's rules).
 *
 * @example
 * ```ts
 * minuteOfDay(Date.UTC(2026, 0, 1, 3, 30), 'UTC'); // 210
 * ```
 */
export function minuteOfDay(epochMs: number, timeZone: string): number {
  const quarter = Math.floor(epochMs / QUARTER_MS);
  const into = Math.floor((epochMs - quarter * QUARTER_MS) / 60_000);
  const known = quarters.get(timeZone);
  if (known !== undefined && known.quarter === quarter) return known.minute + into;
  const minute = formattedMinute(quarter * QUARTER_MS, timeZone);
  if (known !== undefined) {
    known.quarter = quarter;
    known.minute = minute;
  } else if (quarters.size < 256) quarters.set(timeZone, { quarter, minute });
  return minute + into;
}

function formattedMinute(epochMs: number, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(epochMs)) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

/**
 * True when `minute` (since local midnight) lies in the window.
 *
 * @example
 * ```ts
 * inDailyWindow(parseDailyWindow('22:00-02:00'), 23 * 60); // true
 * ```
 */
export function inDailyWindow(window: DailyWindow, minute: number): boolean {
  const { startMinute: s, endMinute: e } = window;
  return s < e ? minute >= s && minute < e : minute >= s || minute < e;
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}
