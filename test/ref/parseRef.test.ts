import { randomBytes } from 'node:crypto';
import util from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectorSecretsError, InvalidSecretRefError, isConnectorSecretsError } from '../../src/errors.js';
import { isSecretRef, parseRef } from '../../src/ref/parseRef.js';
import { LOGICAL_SCHEME, RESERVED_PARAMS } from '../../src/ref/types.js';

/** Runs `fn`, expects it to throw an InvalidSecretRefError and returns it. */
function invalid(fn: () => unknown): InvalidSecretRefError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidSecretRefError);
  const err = caught as InvalidSecretRefError;
  expect(err.code).toBe('INVALID_REF');
  expect(err.name).toBe('InvalidSecretRefError');
  expect(isConnectorSecretsError(err)).toBe(true);
  return err;
}

/** Every text an error exposes: message, stack, String(), util.inspect. */
function everyRendering(err: Error): string[] {
  return [err.message, String(err), err.stack ?? '', util.inspect(err, { showHidden: true, depth: Infinity })];
}

/** A random, credential-shaped test value (never a literal). */
function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

describe('parseRef: valid refs', () => {
  it('parses every part of a full ref', () => {
    const ref = parseRef('vault://kv/prod/orders-db?version=3&env=prod#password');
    expect(ref.scheme).toBe('vault');
    expect(ref.path).toBe('kv/prod/orders-db');
    expect(ref.segments).toEqual(['kv', 'prod', 'orders-db']);
    expect(ref.params).toEqual({ env: 'prod', version: '3' });
    expect(ref.field).toBe('password');
    expect(ref.fieldPath).toEqual(['password']);
    expect(ref.logical).toBe(false);
    expect(ref.toString()).toBe('vault://kv/prod/orders-db?env=prod&version=3#password');
  });

  it('leaves field and fieldPath out when there is no #field', () => {
    const ref = parseRef('env://API_TOKEN');
    expect('field' in ref).toBe(false);
    expect('fieldPath' in ref).toBe(false);
    expect(ref.field).toBeUndefined();
    expect(ref.params).toEqual({});
    expect(ref.segments).toEqual(['API_TOKEN']);
    expect(Object.keys(ref).sort()).toEqual(['logical', 'params', 'path', 'scheme', 'segments']);
  });

  it('marks secret:// refs as logical and nothing else', () => {
    expect(LOGICAL_SCHEME).toBe('secret');
    expect(parseRef('secret://orders-db/password').logical).toBe(true);
    for (const scheme of ['env', 'file', 'local', 'vault', 'aws-sm', 'gcp-sm', 'azure-kv', 'secrets', 'secret2']) {
      expect(parseRef(`${scheme}://x`).logical, scheme).toBe(false);
    }
  });

  it('accepts schemes of the form [a-z][a-z0-9+.-]*', () => {
    for (const scheme of ['a', 'aws-sm', 'azure-kv', 'x1', 'git+ssh', 'a.b', 'z9-.+']) {
      expect(parseRef(`${scheme}://p`).scheme).toBe(scheme);
    }
  });

  it('keeps a leading / as an absolute path', () => {
    const ref = parseRef('file:///run/secrets/db-password');
    expect(ref.path).toBe('/run/secrets/db-password');
    expect(ref.segments).toEqual(['run', 'secrets', 'db-password']);
    expect(String(ref)).toBe('file:///run/secrets/db-password');
    expect(parseRef('file://run/secrets').path).toBe('run/secrets');
  });

  it('percent-decodes path segments, including multi-byte UTF-8', () => {
    const ref = parseRef('local://team%20a/%E2%9C%93/caf%c3%a9/%41%3f%23%25');
    expect(ref.segments).toEqual(['team a', '✓', 'café', 'A?#%']);
    expect(ref.path).toBe('team a/✓/café/A?#%');
  });

  it('accepts raw unicode and sub-delimiters in segments', () => {
    const ref = parseRef("local://ключ/日本語/🔑/a&b=c+d:e%40f!$'()*,;~");
    expect(ref.segments).toEqual(['ключ', '日本語', '🔑', "a&b=c+d:e@f!$'()*,;~"]);
  });

  it('accepts segments that only look like dots', () => {
    expect(parseRef('local://.../.a/a./..b').segments).toEqual(['...', '.a', 'a.', '..b']);
    expect(parseRef('local://%2E%2E%2E').segments).toEqual(['...']);
  });

  it('decodes params and accepts reserved and provider-declared names alike', () => {
    expect(RESERVED_PARAMS).toEqual(['version', 'env', 'stage']);
    const ref = parseRef('aws-sm://orders/db?stage=AWSCURRENT&version=%33&region=eu-west-1&x.y-z_1=a%26b%3Dc');
    expect(ref.params).toEqual({ region: 'eu-west-1', stage: 'AWSCURRENT', version: '3', 'x.y-z_1': 'a&b=c' });
    // Params come out sorted by name.
    expect(Object.keys(ref.params)).toEqual(['region', 'stage', 'version', 'x.y-z_1']);
  });

  it('takes everything after the first = as the value and keeps + literal', () => {
    const ref = parseRef('vault://kv/a?q=a=b+c?d');
    expect(ref.params).toEqual({ q: 'a=b+c?d' });
  });

  it('gives params a harmless prototype-free shape for odd names', () => {
    const ref = parseRef('vault://kv/a?constructor=1&toString=2&hasOwnProperty=3');
    expect(ref.params).toEqual({ constructor: '1', hasOwnProperty: '3', toString: '2' });
    expect(String(ref)).toBe('vault://kv/a?constructor=1&hasOwnProperty=3&toString=2');
  });

  it('splits #field on dots; an encoded dot stays inside one field segment', () => {
    const dotted = parseRef('secret://orders-db#creds.primary.password');
    expect(dotted.field).toBe('creds.primary.password');
    expect(dotted.fieldPath).toEqual(['creds', 'primary', 'password']);

    const encoded = parseRef('secret://orders-db#a%2Eb.c');
    expect(encoded.fieldPath).toEqual(['a.b', 'c']);
    expect(encoded.field).toBe('a.b.c');

    // '#' and '?' after the first '#' belong to the field.
    expect(parseRef('secret://x#a?b#c').fieldPath).toEqual(['a?b#c']);
  });

  it('returns a frozen ref whose parts are frozen too', () => {
    const ref = parseRef('vault://kv/a?version=1#f.g');
    expect(Object.isFrozen(ref)).toBe(true);
    expect(Object.isFrozen(ref.segments)).toBe(true);
    expect(Object.isFrozen(ref.params)).toBe(true);
    expect(Object.isFrozen(ref.fieldPath)).toBe(true);
    expect(() => {
      (ref as { scheme: string }).scheme = 'env';
    }).toThrow(TypeError);
    expect(() => {
      (ref.params as Record<string, string>)['version'] = '2';
    }).toThrow(TypeError);
  });

  it('is branded: isSecretRef accepts parsed refs only', () => {
    const ref = parseRef('env://API_TOKEN');
    expect(isSecretRef(ref)).toBe(true);
    expect(isSecretRef('env://API_TOKEN')).toBe(false);
    expect(isSecretRef({ ...ref })).toBe(false);
    expect(isSecretRef(JSON.parse(JSON.stringify(ref)))).toBe(false);
    expect(isSecretRef(null)).toBe(false);
    expect(isSecretRef(undefined)).toBe(false);
    expect(isSecretRef(42)).toBe(false);
  });

  it('accepts a ref exactly at the length limit and rejects one beyond it', () => {
    const prefix = 'vault://';
    const ok = prefix + 'a'.repeat(4096 - prefix.length);
    expect(parseRef(ok).path).toHaveLength(4096 - prefix.length);
    const err = invalid(() => parseRef(ok + 'a'));
    expect(err.message).toContain('4097');
    expect(err.message).toContain('4096');
    expect(err.message).not.toContain('aaaa');
  });
});

describe('parseRef: invalid refs say what and where', () => {
  // [input, expected position, a word the message must contain]
  const cases: [string, number, string][] = [
    ['vault://', 8, 'empty path'],
    ['vault://?version=1', 8, 'empty path'],
    ['vault://#f', 8, 'empty path'],
    ['vault://a//b', 10, 'empty path segment'],
    ['vault://a/', 10, 'empty path segment'],
    ['vault:///', 9, 'empty path'],
    ['vault:////etc', 9, 'empty path segment'],
    ['vault://kv/./x', 11, '"."'],
    ['vault://kv/../x', 11, '".."'],
    ['vault://..', 8, '".."'],
    ['vault://kv/%2E', 11, '"."'],
    ['vault://kv/%2e%2E/x', 11, '".."'],
    ['vault://kv/.%2e', 11, '".."'],
    ['vault://kv/a%2Fb', 11, 'encoded "/"'],
    ['vault://kv/%2F..%2Fetc', 11, 'encoded "/"'],
    ['vault://kv/a\u0000b', 12, 'control or NUL'],
    ['vault://kv/a\nb', 12, 'control or NUL'],
    ['vault://kv/a\tb', 12, 'control or NUL'],
    ['vault://kv/\u007f', 11, 'control or NUL'],
    ['vault://kv/\u0085', 11, 'control or NUL'],
    ['vault://kv/a?version=1\r\n', 22, 'control or NUL'],
    ['vault://kv/a%00b', 11, 'control or NUL'],
    ['vault://kv/a%0Ab', 11, 'control or NUL'],
    ['vault://kv/%1B[31m', 11, 'control or NUL'],
    ['vault://kv/%7F', 11, 'control or NUL'],
    ['vault://kv/%C2%85', 11, 'control or NUL'],
    ['vault://kv/%', 11, 'percent-encoding'],
    ['vault://kv/%G1', 11, 'percent-encoding'],
    ['vault://kv/%C3', 11, 'percent-encoding'],
    ['vault://kv/%ED%A0%80', 11, 'percent-encoding'],
    ['vault://kv/x?', 13, 'empty query'],
    ['vault://kv/x?#f', 13, 'empty query'],
    ['vault://kv/x?version', 13, 'no value'],
    ['vault://kv/x?version=', 13, 'no value'],
    ['vault://kv/x?version=1&', 23, 'invalid param name'],
    ['vault://kv/x?version=1&&env=a', 23, 'invalid param name'],
    ['vault://kv/x?=1', 13, 'invalid param name'],
    ['vault://kv/x?1a=1', 13, 'invalid param name'],
    ['vault://kv/x?__proto__=1', 13, 'invalid param name'],
    ['vault://kv/x?a%20b=1', 13, 'invalid param name'],
    ['vault://kv/x?version=1&version=2', 23, 'given twice'],
    ['vault://kv/x?version=%ZZ', 21, 'percent-encoding'],
    ['vault://kv/x?version=1%00', 21, 'control or NUL'],
    ['vault://kv/x?env=a%0D%0Ab', 17, 'control or NUL'],
    ['vault://kv/x#', 13, 'empty field'],
    ['vault://kv/x#a..b', 15, 'empty field segment'],
    ['vault://kv/x#.a', 13, 'empty field segment'],
    ['vault://kv/x#a.', 15, 'empty field segment'],
    ['vault://kv/x#a.%E0%A4%A', 15, 'percent-encoding'],
    ['vault://kv/x#a.b%00', 15, 'control or NUL'],
    ['vault://kv/x#%1B', 13, 'control or NUL'],
  ];

  it.each(cases)('%j fails at position %i (%s)', (input, position, what) => {
    const err = invalid(() => parseRef(input));
    expect(err.position).toBe(position);
    expect(err.message).toContain(what);
    expect(err.message).toContain(`position ${position}`);
    // No part of an unparsed input is repeated, not even its scheme.
    expect(err.message).toMatch(/^invalid reference: /);
    expect(err.message).not.toContain('vault');
    expect(err.ref).toBeUndefined();
  });

  it('points at the lone surrogate itself', () => {
    const err = invalid(() => parseRef('vault://kv/ab\uD800c'));
    expect(err.message).toMatch(/surrogate/);
    expect(err.position).toBe(13);
    const low = invalid(() => parseRef('vault://kv/🔑\uDC00'));
    expect(low.position).toBe(13);
  });

  it('rejects schemes outside [a-z][a-z0-9+.-]*', () => {
    for (const input of ['Vault://x', 'VAULT://x', '1vault://x', '-x://y', 'a_b://x', 'a b://x', '://x', ' vault://x', 'vä://x']) {
      const err = invalid(() => parseRef(input));
      expect(err.message, input).toMatch(/not a secret reference/);
      expect(err.position).toBeUndefined();
    }
  });

  it('rejects inputs that are not strings without echoing them', () => {
    for (const input of [42, null, undefined, { toString: () => 'env://X' }, Symbol('s')]) {
      const err = invalid(() => parseRef(input as unknown as string));
      expect(err.message).toMatch(/must be a string/);
    }
  });

  it('never echoes the path, params values or field in its messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 40 }), fc.constantFrom('path', 'value', 'field'), (bytes, where) => {
        const token = Buffer.from(bytes).toString('base64url');
        const input =
          where === 'path'
            ? `vault://kv/${token}/../x`
            : where === 'value'
              ? `vault://kv/x?version=${token}&version=2`
              : `vault://kv/x#${token}..y`;
        const err = invalid(() => parseRef(input));
        for (const text of everyRendering(err)) expect(text).not.toContain(token);
      }),
    );
  });
});

describe('parseRef: a pasted secret never shows up in the error', () => {
  function expectHidden(input: string, secret: string = input): void {
    const err = invalid(() => parseRef(input));
    expect(err.position).toBeUndefined();
    expect(err.message).toBe(
      `input of length ${input.length} is not a secret reference (expected scheme://path); it is not shown in case it is a secret`,
    );
    for (const text of everyRendering(err)) {
      expect(text).not.toContain(input);
      expect(text).not.toContain(secret);
    }
  }

  it('hides random credential-shaped strings', () => {
    for (let i = 0; i < 20; i++) {
      const value = randomToken();
      expectHidden(value);
      expectHidden(`Bearer ${value}`, value);
      expectHidden(`password=${value}`, value);
      expectHidden(`${value}:/${value}`, value);
      expectHidden(`${value}://host/db`, value);
    }
  });

  it('hides any string without "://" (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 12, maxLength: 200 }).filter((s) => !s.includes('://')),
        (input) => expectHidden(input),
      ),
      { numRuns: 500 },
    );
  });

  it('hides any string whose part before "://" is not a valid scheme (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 12, maxLength: 60 }).filter((s) => !/^[a-z][a-z0-9+.-]*$/.test(s) && !s.includes('://')),
        fc.string({ maxLength: 30 }),
        (secret, tail) => expectHidden(`${secret}://${tail}`, secret),
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseRef: errors are the package errors', () => {
  it('throws a ConnectorSecretsError subclass with code INVALID_REF', () => {
    const err = invalid(() => parseRef('vault://a/../b'));
    expect(err).toBeInstanceOf(ConnectorSecretsError);
    expect(err).toBeInstanceOf(Error);
  });
});

describe('connection URLs with credentials', () => {
  it('are refused without echoing any part of them', async () => {
    const { parseRef: parse } = await import('../../src/ref/parseRef.js');
    const { randomBytes } = await import('node:crypto');
    const password = randomBytes(12).toString('hex');
    const input = `postgres://etl:${password}@db.internal:5432/orders`;
    let message = '';
    try {
      parse(input);
    } catch (err) {
      message = `${(err as Error).message}\n${(err as Error).stack}`;
      expect((err as { code?: string }).code).toBe('INVALID_REF');
    }
    expect(message).toMatch(/connection URL with credentials/);
    expect(message).not.toContain(password);
    // A raw `@` anywhere is refused (it may end credentials whatever the rest looks like); `%40` is the way to write it.
    expect(() => parse('vault://kv/team@example/x')).toThrow(InvalidSecretRefError);
    expect(parse('vault://kv/team%40example/x').segments).toEqual(['kv', 'team@example', 'x']);
  });
});
