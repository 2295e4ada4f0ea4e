// Issue 10, item 6: plural and compound key names are sensitive in every style; item 8 (part):
// a URI whose password has no host after the '@'.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/index.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const cred = () => `Q7${Array.from(randomBytes(18), (b) => ALNUM[b % ALNUM.length]).join('')}z`;

/** `words` in camelCase, PascalCase, snake_case, kebab-case and SCREAMING_SNAKE_CASE. */
function styles(words: readonly string[]): string[] {
  const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  return [
    words[0] + words.slice(1).map(cap).join(''),
    words.map(cap).join(''),
    words.join('_'),
    words.join('-'),
    words.join('_').toUpperCase(),
  ];
}

const PLURALS: readonly (readonly string[])[] = [
  ['passwords'], ['secrets'], ['tokens'], ['api', 'keys'], ['client', 'secrets'], ['private', 'keys'], ['refresh', 'tokens'],
  ['access', 'tokens'], ['api', 'tokens'], ['db', 'passwords'], ['auth', 'tokens'], ['session', 'tokens'], ['secret', 'keys'],
  ['signing', 'keys'], ['cookies'], ['signatures'], ['passphrases'], ['sas', 'tokens'], ['account', 'keys'],
];

describe('plural and compound key names (issue 10, item 6)', () => {
  const redactor = createRedactor();

  it('are sensitive in every casing style', () => {
    for (const words of PLURALS) for (const key of styles(words)) expect(redactor.isSensitiveKey(key), key).toBe(true);
    for (const key of ['APIKEYS', 'apikeys', 'clientsecrets']) expect(redactor.isSensitiveKey(key), key).toBe(true);
  });

  it('mask their values in redactValue, arrays included', () => {
    const v = cred();
    const w = cred();
    const out = redactor.redactValue({ passwords: [v, w], clientSecrets: { a: v }, API_KEYS: v, 'refresh-tokens': [w], rows: 3 });
    expect(JSON.stringify(out)).not.toContain(v);
    expect(JSON.stringify(out)).not.toContain(w);
    expect(out).toMatchObject({ rows: 3 });
  });

  it('mask their values in text: key=value, key: value and JSON', () => {
    // (Cookie headers are masked to the end of the line, see patterns.test.ts.)
    for (const words of PLURALS.filter((w) => w[0] !== 'cookies')) {
      for (const key of styles(words)) {
        const v = cred();
        expect(redactor.redact(`${key}=${v} next`), key).toBe(`${key}=[REDACTED] next`);
        expect(redactor.redact(`${key}: ${v} next`), key).toBe(`${key}: [REDACTED] next`);
        expect(redactor.redact(`{"${key}":"${v}","n":1}`), key).toBe(`{"${key}":"[REDACTED]","n":1}`);
      }
    }
  });

  it('a bare tokens field is sensitive, but its value in text is masked only when it looks like a credential', () => {
    const v = cred();
    expect(redactor.redactValue({ tokens: [v] })).toEqual({ tokens: '[REDACTED]' });
    expect(redactor.redact(`tokens=${v}`)).toBe('tokens=[REDACTED]');
    expect(redactor.redact('tokens: 1234')).toBe('tokens: 1234');
  });

  it('describing and count keys stay plain', () => {
    for (const key of ['max_tokens', 'totalTokens', 'PROMPT_TOKENS', 'completion-tokens', 'secretsCount', 'apiKeyIds', 'passwordsEnabled', 'keys', 'sortKeys']) {
      expect(redactor.isSensitiveKey(key), key).toBe(false);
    }
  });
});

describe('URI whose password has no host after the @ (issue 10, item 8)', () => {
  const redactor = createRedactor();

  it('masks the password', () => {
    const pw = cred();
    expect(redactor.redact(`azure://id:${pw}@`)).toBe('azure://id:[REDACTED]@');
    expect(redactor.redact(`connect azure://client-id:${pw}@ failed`)).toBe('connect azure://client-id:[REDACTED]@ failed');
    expect(redactor.redact(`"azure://id:${pw}@"`)).toBe('"azure://id:[REDACTED]@"');
  });

  it('leaves a path, a query or an IPv6 host with an @ alone', () => {
    for (const text of ['http://[::1]:8080/x@y', 'https://api.example.com/a:b@c', 'https://h/?q=a:b@c', 'http://[fe80::1]/x@2']) {
      expect(redactor.redact(text)).toBe(text);
    }
  });
});
