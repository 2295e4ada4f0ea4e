import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRedactor, Secret } from '../../src/index.js';

const rand = () => randomBytes(18).toString('base64url');

describe('redactValue', () => {
  const redactor = createRedactor();
  const secret = rand();
  redactor.add(secret, { ref: 'env://S' });

  it('copies nested objects and arrays, redacting strings and sensitive keys', () => {
    const input = { user: 'etl', note: `uses ${secret}`, password: 'not-registered', list: [1, `x${secret}`, { apiKey: 42 }], ok: true, none: null };
    const out = redactor.redactValue(input);
    expect(out).toEqual({ user: 'etl', note: 'uses [REDACTED]', password: '[REDACTED]', list: [1, 'x[REDACTED]', { apiKey: '[REDACTED]' }], ok: true, none: null });
    expect(input.note).toBe(`uses ${secret}`); // the input is untouched
  });

  it('handles Maps (keys and values), Sets, Buffers, typed arrays, Dates and URLs', () => {
    const out = redactor.redactValue({
      map: new Map<unknown, unknown>([[secret, 'k'], ['token', 'v'], ['n', secret]]),
      set: new Set([secret, 'plain']),
      buf: Buffer.from(`<${secret}>`),
      u16: new Uint16Array([1, 2]),
      date: new Date(0),
      url: new URL(`https://user:${secret}@example.com/x`),
    }) as Record<string, unknown>;
    expect([...(out['map'] as Map<unknown, unknown>)]).toEqual([['[REDACTED]', 'k'], ['token', '[REDACTED]'], ['n', '[REDACTED]']]);
    expect([...(out['set'] as Set<unknown>)]).toEqual(['[REDACTED]', 'plain']);
    expect((out['buf'] as Buffer).toString()).toBe('<[REDACTED]>');
    expect([...(out['u16'] as Uint16Array)]).toEqual([1, 2]);
    expect(out['date']).toEqual(new Date(0));
    expect(out['url']).toBe('https://user:[REDACTED]@example.com/x');
  });

  it('copies class instances (own enumerable fields), using toJSON when they have one', () => {
    class Conn {
      host = 'db';
      dsn = `postgres://u:${secret}@db/x`;
      #hidden = secret;
      peek() {
        return this.#hidden;
      }
    }
    class WithJson {
      toJSON() {
        return { inner: secret };
      }
    }
    expect(redactor.redactValue(new Conn())).toEqual({ host: 'db', dsn: '[REDACTED]' });
    expect(redactor.redactValue(new WithJson())).toEqual({ inner: '[REDACTED]' });
  });

  it('cuts cycles and deep nesting', () => {
    const a: Record<string, unknown> = { name: secret };
    a['self'] = a;
    expect(redactor.redactValue(a)).toEqual({ name: '[REDACTED]', self: '[Circular]' });
    let deep: Record<string, unknown> = { v: secret };
    for (let i = 0; i < 100; i++) deep = { d: deep };
    const text = JSON.stringify(redactor.redactValue(deep));
    expect(text).toContain('[Depth limit]');
    expect(text).not.toContain(secret);
    const shallow = createRedactor({ maxDepth: 2 });
    expect(shallow.redactValue({ a: { b: { c: 1 } } })).toEqual({ a: { b: '[Depth limit]' } });
  });

  it('keeps a value shared by two branches (not a cycle)', () => {
    const shared = { v: 1 };
    expect(redactor.redactValue({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
  });

  it('turns a Secret into its placeholder and redacts registered numbers', () => {
    const s = new Secret(secret, { ref: 'env://S' });
    const pinRedactor = createRedactor();
    pinRedactor.add('8675309');
    expect(redactor.redactValue({ s })).toEqual({ s: '[REDACTED]' });
    expect(pinRedactor.redactValue({ pin: 8675309, other: 12 })).toEqual({ pin: '[REDACTED]', other: 12 });
  });

  it('never throws: a failing getter becomes <redaction-failed>, a hostile proxy too', () => {
    const obj = {
      ok: 1,
      get bad(): string {
        throw new Error(`getter saw ${secret}`);
      },
    };
    expect(redactor.redactValue(obj)).toEqual({ ok: 1, bad: '<redaction-failed>' });
    const hostile = new Proxy({}, {
      ownKeys() {
        throw new Error('nope');
      },
    });
    expect(redactor.redactValue(hostile)).toBe('<redaction-failed>');
    expect(inspect(redactor.redactValue({ fn: () => 1, sym: Symbol('x'), big: 10n }))).toContain('10n');
  });
});
