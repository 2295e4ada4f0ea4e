import { describe, expect, it } from 'vitest';
import { assertTimeZone, inDailyWindow, minuteOfDay, parseDailyWindow } from '../../src/guard/timeWindow.js';

describe('daily windows', () => {
  it('parses HH:MM-HH:MM with an exclusive end, wrapping past midnight', () => {
    const w = parseDailyWindow('01:00-05:00');
    expect([w.startMinute, w.endMinute]).toEqual([60, 300]);
    expect(inDailyWindow(w, 60)).toBe(true);
    expect(inDailyWindow(w, 299)).toBe(true);
    expect(inDailyWindow(w, 300)).toBe(false);
    expect(inDailyWindow(w, 59)).toBe(false);
    const night = parseDailyWindow('22:00-02:00');
    expect(inDailyWindow(night, 23 * 60)).toBe(true);
    expect(inDailyWindow(night, 60)).toBe(true);
    expect(inDailyWindow(night, 2 * 60)).toBe(false);
    expect(inDailyWindow(parseDailyWindow('00:00-24:00'), 1439)).toBe(true);
  });

  it('rejects malformed and empty windows', () => {
    for (const bad of ['1:00-05:00', '01:00-25:00', '01:00', '01:60-02:00', '03:00-03:00', '24:00-01:00', 'x']) {
      expect(() => parseDailyWindow(bad), bad).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('computes local minutes with Intl, following daylight saving', () => {
    expect(minuteOfDay(Date.UTC(2026, 0, 1, 3, 30), 'UTC')).toBe(210);
    // Berlin is UTC+1 in January and UTC+2 in July.
    expect(minuteOfDay(Date.UTC(2026, 0, 15, 0, 30), 'Europe/Berlin')).toBe(90);
    expect(minuteOfDay(Date.UTC(2026, 6, 15, 0, 30), 'Europe/Berlin')).toBe(150);
    // Kathmandu is UTC+5:45: quarter-hour offsets are exact too.
    expect(minuteOfDay(Date.UTC(2026, 0, 1, 0, 14), 'Asia/Kathmandu')).toBe(5 * 60 + 59);
    expect(minuteOfDay(Date.UTC(2026, 0, 1, 0, 15), 'Asia/Kathmandu')).toBe(6 * 60);
    // Across the spring-forward hour in Berlin (2026-03-29 01:00 UTC).
    expect(minuteOfDay(Date.UTC(2026, 2, 29, 0, 59), 'Europe/Berlin')).toBe(119);
    expect(minuteOfDay(Date.UTC(2026, 2, 29, 1, 0), 'Europe/Berlin')).toBe(180);
  });

  it('rejects unknown time zones', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(/IANA time zone/);
    expect(() => assertTimeZone('Europe/Berlin')).not.toThrow();
  });
});
