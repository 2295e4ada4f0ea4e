import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffMs, nextRefreshAt } from '../../src/handles/schedule.js';
import { isAuthError } from '../../src/handles/isAuthError.js';

const policy = { minFraction: 2 / 3, maxFraction: 3 / 4, refreshWindowMs: 300_000 };

describe('nextRefreshAt', () => {
  it("lies between 2/3 and 3/4 of the lifetime (to the ms) and never inside the window before expiry", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 7 * 86_400_000 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (lifetime, r) => {
        const at = nextRefreshAt(0, lifetime, policy, () => r);
        expect(at).toBeGreaterThanOrEqual(Math.min((lifetime * 2) / 3, lifetime - Math.min(300_000, lifetime / 4)) - 0.5);
        expect(at).toBeLessThanOrEqual((lifetime * 3) / 4 + 0.5);
        expect(at).toBeLessThanOrEqual(lifetime - Math.min(300_000, lifetime / 4) + 0.5);
      }),
    );
  });

  it('uses the random source across the whole range', () => {
    expect(nextRefreshAt(0, 3_600_000, policy, () => 0)).toBe(2_400_000);
    expect(nextRefreshAt(0, 3_600_000, policy, () => 0.5)).toBe(2_550_000);
  });

  it('honours an earlier refreshAfter hint', () => {
    expect(nextRefreshAt(0, 3_600_000, policy, () => 0.5, 60_000)).toBe(60_000);
  });
});

describe('backoffMs', () => {
  it('doubles from the base up to the cap, with full jitter', () => {
    expect(backoffMs(0, 1000, 300_000, () => 0.999)).toBeCloseTo(999);
    expect(backoffMs(3, 1000, 300_000, () => 0.5)).toBe(4000);
    expect(backoffMs(20, 1000, 300_000, () => 0.5)).toBe(150_000);
    expect(backoffMs(5, 1000, 300_000, () => 0)).toBe(0);
  });
});

describe('isAuthError', () => {
  const cases: [string, unknown][] = [
    ['PostgreSQL 28P01', Object.assign(new Error('auth'), { code: '28P01' })],
    ['PostgreSQL 28000', Object.assign(new Error('auth'), { code: '28000' })],
    ['MySQL 1045', Object.assign(new Error('auth'), { errno: 1045 })],
    ['SQL Server 18456', Object.assign(new Error('auth'), { number: 18456 })],
    ['SQL Server 18456 (tedious originalError)', Object.assign(new Error('auth'), { originalError: { info: { number: 18456 } } })],
    ['HTTP 401', Object.assign(new Error('auth'), { status: 401 })],
    ['HTTP 403 (response)', Object.assign(new Error('auth'), { response: { status: 403 } })],
    ['AWS ExpiredToken', Object.assign(new Error('auth'), { name: 'ExpiredToken' })],
    ['AWS ExpiredTokenException', Object.assign(new Error('auth'), { name: 'ExpiredTokenException' })],
    ['AWS UnrecognizedClientException', Object.assign(new Error('auth'), { Code: 'UnrecognizedClientException' })],
    ['OAuth invalid_grant', Object.assign(new Error('auth'), { error: 'invalid_grant' })],
    ['OAuth invalid_token', Object.assign(new Error('auth'), { error: 'invalid_token' })],
    ['in a cause chain', new Error('wrapped', { cause: Object.assign(new Error('auth'), { code: '28P01' }) })],
  ];
  it.each(cases)('knows %s', (_, err) => {
    expect(isAuthError(err)).toBe(true);
  });

  it('does not take other failures for auth failures', () => {
    for (const err of [new Error('x'), Object.assign(new Error('x'), { code: '57P01' }), Object.assign(new Error('x'), { status: 500 }), null, 'text']) {
      expect(isAuthError(err)).toBe(false);
    }
  });
});
