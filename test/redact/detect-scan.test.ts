// The one-pass trigger scan (issue 10, Speed): it skips up to four bytes at a time and looks at a
// trigger only when the bytes around it can hold a credential. These pin down the edges of that
// skipping: triggers at the very start and end of a text, right after another, next to
// non-ASCII text, short key words with every ending, and JSON/pino lines.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/index.js';

const pick = (alphabet: string, n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
const UPPER_NUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}-_`;
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const cred = () => `Q7${pick(ALNUM, 18)}z`;

const tokens: Record<string, () => string> = {
  aws: () => `${'AK'}${'IA'}${pick(UPPER_NUM, 16)}`,
  github: () => `${'gh'}${'p_'}${pick(ALNUM, 36)}`,
  google: () => `${'AI'}${'za'}${pick(B64URL, 35)}`,
  jwt: () => `${b64url({ alg: 'HS256' })}.${b64url({ sub: pick(ALNUM, 8) })}.${pick(B64URL, 43)}`,
  slack: () => `${'xo'}${'xb-'}${pick('0123456789', 11)}-${pick(ALNUM, 24)}`,
};

describe('trigger scan edges', () => {
  const redactor = createRedactor();

  it('finds a token at the start, at the end, alone, after another and after non-ASCII text', () => {
    for (const [name, make] of Object.entries(tokens)) {
      const t = make();
      const u = make();
      for (const [text, want] of [
        [t, '[REDACTED]'],
        [`${t} tail`, '[REDACTED] tail'],
        [`head ${t}`, 'head [REDACTED]'],
        [`${t} ${u}`, '[REDACTED] [REDACTED]'],
        [`é ${t}`, 'é [REDACTED]'],
        [`日本 ${t}`, '日本 [REDACTED]'],
        [`x=${t}`, 'x=[REDACTED]'],
      ] as const) {
        expect(redactor.redact(text), `${name}: ${want}`).toBe(want);
      }
    }
  });

  it('three-letter key words and their plurals, with every ending, at any position', () => {
    for (const key of ['pwd', 'dsn', 'jwt', 'api_key', 'apiKeys', 'API_KEYS', 'db-pwd', 'pwds', 'x-api-key', 'secret_key']) {
      for (const [before, after] of [
        ['', '='],
        ['x ', '='],
        ['x ', ': '],
        ['x ', ' = '],
        ['{"', '":"'],
        ["{'", "': '"],
        ['{\\"', '\\":\\"'],
        ['?a=1&', '='],
      ] as const) {
        const v = cred();
        const text = `${before}${key}${after}${v} end`;
        expect(redactor.redact(text), text.replace(v, '<v>')).not.toContain(v);
      }
    }
    // `key` and `sig` alone are query parameters: sensitive after `?`, `&`, `;`, a space or the start.
    for (const key of ['key', 'sig']) {
      for (const before of ['', '?', 'GET /x?a=1&', 'x ']) {
        const v = cred();
        expect(redactor.redact(`${before}${key}=${v}`), `${before}${key}=<v>`).toBe(`${before}${key}=[REDACTED]`);
      }
    }
  });

  it('pino-shaped JSON lines: a secret under a short key is masked, nothing else changes', () => {
    const v = cred();
    const line = `{"level":30,"time":1767225600000,"pid":42,"hostname":"etl","msg":"batch synced","rows":12,"apiKey":"${v}","cursor":"c-1"}`;
    expect(redactor.redact(line)).toBe(line.replace(v, '[REDACTED]'));
    const plain = '{"level":30,"time":1767225600000,"pid":42,"hostname":"etl","msg":"batch synced","rows":12,"keys":"id,name","cursor":"c-1"}';
    expect(redactor.redact(plain)).toBe(plain);
  });

  it('URLs with userinfo anywhere in a line, including at its very start', () => {
    const pw = cred();
    for (const text of [`postgres://etl:${pw}@db/orders`, `x postgres://etl:${pw}@db/orders`, `"s3://k:${pw}@bucket/x"`]) {
      expect(redactor.redact(text)).toBe(text.replace(pw, '[REDACTED]'));
    }
  });
});
