// Issue 10, "Lines it must not damage": with nothing registered, the default redactor leaves
// every ordinary connector log line exactly as it is, while the key rules still mask values that
// look like credentials under the same keys.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/index.js';
import { ISSUE_LINES, ordinaryLines } from './ordinary-lines.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A credential-shaped value: random letters of both cases and digits, assembled at run time. */
const cred = (n = 20) => {
  const raw = Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
  return `${raw.slice(0, 4)}9Zq${raw.slice(4)}`; // always mixed case and digits
};

describe('ordinary log lines (nothing registered)', () => {
  const lines = ordinaryLines();
  const redactor = createRedactor();

  it('the corpus has at least 200 distinct lines, the issue lines among them', () => {
    expect(new Set(lines).size).toBeGreaterThanOrEqual(200);
    for (const line of ISSUE_LINES) expect(lines).toContain(line);
  });

  it('every line comes out unchanged', () => {
    const changed = lines.filter((line) => redactor.redact(line) !== line);
    expect(changed).toEqual([]);
  });

  it('every line comes out unchanged inside a JSON log line too', () => {
    const changed = lines.filter((line) => {
      const json = JSON.stringify({ level: 30, msg: line });
      return redactor.redact(json) !== json;
    });
    expect(changed).toEqual([]);
  });

  it('the same keys still mask values that look like credentials', () => {
    for (const make of [
      (v: string) => `token: ${v}`,
      (v: string) => `signature: ${v}`,
      (v: string) => `dsn: ${v}`,
      (v: string) => `key=${v}`,
      (v: string) => `cache key=${v}`,
      (v: string) => `?key=${v}`,
      (v: string) => `credentials: ${v}`,
      (v: string) => `{"token":"${v}"}`,
      (v: string) => `apiKey: ${v}`,
      (v: string) => `Authorization: Bearer ${v}`.replace('Authorization: ', 'sent '),
    ]) {
      const v = cred();
      const out = redactor.redact(make(v));
      expect(out, make('<value>')).not.toContain(v);
      expect(out, make('<value>')).toBe(make('[REDACTED]'));
    }
    // Hex digests, long numbers and base64 look like credentials too.
    for (const v of [randomBytes(16).toString('hex'), String(100000 + (randomBytes(3).readUIntBE(0, 3) % 900000)), `${randomBytes(12).toString('base64')}x`]) {
      expect(redactor.redact(`token=${v} next`)).toBe('token=[REDACTED] next');
    }
  });

  it('password-like keys mask every value except a status word', () => {
    for (const word of ['sunshine', 'orders', 'Summer']) expect(redactor.redact(`password: ${word}`)).toBe('password: [REDACTED]');
    for (const word of ['expired', 'missing', 'none']) expect(redactor.redact(`password: ${word}`)).toBe(`password: ${word}`);
  });
});
