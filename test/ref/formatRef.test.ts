import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidSecretRefError } from '../../src/errors.js';
import { formatRef, type RefParts } from '../../src/ref/formatRef.js';
import { caseUnstable, parseRef } from '../../src/ref/parseRef.js';
import { RESERVED_PARAMS } from '../../src/ref/types.js';

describe('formatRef: canonical form', () => {
  it.each([
    // [input, canonical]
    ['vault://kv/a%20b?version=2&env=prod#pass', 'vault://kv/a%20b?env=prod&version=2#pass'],
    ['local://caf%c3%a9', 'local://caf%C3%A9'],
    ['local://café', 'local://caf%C3%A9'],
    ['local://%41%42%7e', 'local://AB~'],
    ['local://a b', 'local://a%20b'],
    ["local://a&b=c+d:e%40f!$'()*,;", "local://a&b=c+d:e%40f!$'()*,;"],
    ['local://team%40example/x', 'local://team%40example/x'],
    ['local://%3F%23%25%5B%5D', 'local://%3F%23%25%5B%5D'],
    ['local://🔑', 'local://%F0%9F%94%91'],
    ['file:///run/secrets/x', 'file:///run/secrets/x'],
    ['vault://kv/x?z=1&a=2&m=3', 'vault://kv/x?a=2&m=3&z=1'],
    ['vault://kv/x?q=a b+c', 'vault://kv/x?q=a%20b%2Bc'],
    ['vault://kv/x?q=a=b', 'vault://kv/x?q=a%3Db'],
    ['vault://kv/x?q=%26%23%3F%25', 'vault://kv/x?q=%26%23%3F%25'],
    ['vault://kv/x?q=http://h:1/p%40u', 'vault://kv/x?q=http://h:1/p%40u'],
    ['secret://db#user%40corp', 'secret://db#user%40corp'],
    ['secret://db#a.b.c', 'secret://db#a.b.c'],
    ['secret://db#a%2Eb.c', 'secret://db#a%2Eb.c'],
    ['secret://db#a%2eb', 'secret://db#a%2Eb'],
    ['secret://db#a b#c?d', 'secret://db#a%20b%23c%3Fd'],
    ['secret://db#user+name=x', 'secret://db#user+name=x'],
  ])('%s -> %s', (input, canonical) => {
    const ref = parseRef(input);
    expect(formatRef(ref)).toBe(canonical);
    expect(ref.toString()).toBe(canonical);
    expect(String(ref)).toBe(canonical);
    expect(`${ref}`).toBe(canonical);
    // The canonical form is a fixed point.
    expect(formatRef(parseRef(canonical))).toBe(canonical);
    expect(parseRef(canonical)).toStrictEqual(ref);
  });

  it('formats hand-built parts', () => {
    const parts: RefParts = {
      scheme: 'vault',
      path: 'kv/a b/✓',
      segments: ['kv', 'a b', '✓'],
      params: { version: '7', env: 'dev' },
      fieldPath: ['creds', 'pass.word'],
    };
    expect(formatRef(parts)).toBe('vault://kv/a%20b/%E2%9C%93?env=dev&version=7#creds.pass%2Eword');
    expect(formatRef({ scheme: 'file', path: '/x/y', segments: ['x', 'y'], params: {} })).toBe('file:///x/y');
  });

  it('omits the query and the field when there are none', () => {
    const s = formatRef(parseRef('env://API_TOKEN'));
    expect(s).toBe('env://API_TOKEN');
    expect(s).not.toMatch(/[?#]/);
  });
});

// ---------------------------------------------------------------------------------------------
// Round-trip properties
// ---------------------------------------------------------------------------------------------

const RESERVED_CHARS = [...'?#%/&=+ .:@~!$\'()*,;[]"<>\\^`{|}'];

function isAllowedText(s: string): boolean {
  // No NUL / C0 / DEL / C1 control characters, no lone surrogates.
  return s.isWellFormed() && !/[\u0000-\u001f\u007f-\u009f]/.test(s);
}

/** One character: reserved ASCII, plain ASCII, or any unicode code point. */
const char = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RESERVED_CHARS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = (minLength: number) =>
  fc.string({ unit: char, minLength, maxLength: 12 }).filter(isAllowedText);

const schemeArb = fc.stringMatching(/^[a-z][a-z0-9+.-]{0,10}$/);
// Segments that a case-mapping layer would read as another name are refused (see parseRef.test.ts).
const segmentArb = text(1).filter((s) => !s.includes('/') && s !== '.' && s !== '..' && caseUnstable(s) === undefined);
const paramNameArb = fc.oneof(fc.constantFrom(...RESERVED_PARAMS), fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,8}$/));
const paramsArb = fc.dictionary(paramNameArb, text(1), { maxKeys: 4, noNullPrototype: true });
const fieldArb = fc.option(fc.array(text(1), { minLength: 1, maxLength: 4 }), { nil: undefined });

interface Parts {
  scheme: string;
  absolute: boolean;
  segments: string[];
  params: Record<string, string>;
  fieldPath: string[] | undefined;
}

const partsArb: fc.Arbitrary<Parts> = fc.record({
  scheme: schemeArb,
  absolute: fc.boolean(),
  segments: fc.array(segmentArb, { minLength: 1, maxLength: 5 }),
  params: paramsArb,
  fieldPath: fieldArb,
});

/**
 * Writes `parts` as a ref string, percent-encoding the characters that must be encoded and,
 * depending on `noise`, some that need not be (with random hex case), and shuffling params.
 */
function write(parts: Parts, noise: number[]): string {
  let n = 0;
  const coin = () => (noise.length === 0 ? 0 : noise[n++ % noise.length]!);
  // A raw `@` reads as URL credentials and is refused anywhere, so `@` is always encoded.
  const enc = (s: string, mustEncode: string) => {
    let out = '';
    for (const ch of s) {
      const r = coin();
      if (mustEncode.includes(ch) || r % 3 === 0) {
        for (const b of Buffer.from(ch, 'utf8')) {
          const hex = b.toString(16).padStart(2, '0');
          out += '%' + (r % 2 === 0 ? hex.toUpperCase() : hex.toLowerCase());
        }
      } else {
        out += ch;
      }
    }
    return out;
  };
  let s = `${parts.scheme}://${parts.absolute ? '/' : ''}${parts.segments.map((seg) => enc(seg, '/?#%@')).join('/')}`;
  const names = Object.keys(parts.params);
  if (names.length > 0) {
    const order = [...names].sort((a, b) => ((coin() % 3) - 1) || a.localeCompare(b));
    s += '?' + order.map((name) => `${name}=${enc(parts.params[name]!, '&#%@')}`).join('&');
  }
  if (parts.fieldPath !== undefined) s += '#' + parts.fieldPath.map((f) => enc(f, '.%@')).join('.');
  return s;
}

const noiseArb = fc.array(fc.nat(11), { maxLength: 16 });

describe('round trip (properties)', () => {
  it('parseRef recovers the parts, whatever the encoding', () => {
    fc.assert(
      fc.property(partsArb, noiseArb, (parts, noise) => {
        const input = write(parts, noise);
        fc.pre(input.length <= 4096);
        const ref = parseRef(input);
        expect(ref.scheme).toBe(parts.scheme);
        expect(ref.segments).toEqual(parts.segments);
        expect(ref.path).toBe((parts.absolute ? '/' : '') + parts.segments.join('/'));
        expect(ref.params).toEqual(parts.params);
        expect(ref.fieldPath).toEqual(parts.fieldPath);
        expect(ref.field).toBe(parts.fieldPath?.join('.'));
        expect(ref.logical).toBe(parts.scheme === 'secret');
      }),
      { numRuns: 1000 },
    );
  });

  it('formatRef(parseRef(s)) is canonical: independent of encoding, and a fixed point', () => {
    fc.assert(
      fc.property(partsArb, noiseArb, noiseArb, (parts, noiseA, noiseB) => {
        const a = write(parts, noiseA);
        const b = write(parts, noiseB);
        fc.pre(a.length <= 4096 && b.length <= 4096);
        const refA = parseRef(a);
        const canonical = formatRef(refA);
        expect(String(refA)).toBe(canonical);
        // Two spellings of the same ref have the same canonical form.
        expect(formatRef(parseRef(b))).toBe(canonical);
        // Parsing the canonical form gives an equal ref, and formatting it again changes nothing.
        const again = parseRef(canonical);
        expect(again).toStrictEqual(refA);
        expect(formatRef(again)).toBe(canonical);
        // The canonical form is what formatRef makes of the parts directly.
        expect(
          formatRef({
            scheme: parts.scheme,
            path: (parts.absolute ? '/' : '') + parts.segments.join('/'),
            segments: parts.segments,
            params: parts.params,
            ...(parts.fieldPath === undefined ? {} : { fieldPath: parts.fieldPath }),
          }),
        ).toBe(canonical);
        // The canonical form uses upper-case hex only and has no raw space or non-ASCII.
        expect(canonical).not.toMatch(/%[0-9A-F]?[a-f]/);
        expect(canonical).not.toMatch(/[^\x21-\x7e]/);
      }),
      { numRuns: 1000 },
    );
  });

  it('any string either fails with InvalidSecretRefError or round-trips', () => {
    const piece = fc.oneof(
      fc.constantFrom('a', 'Z', '0', '/', ':', '://', '?', '#', '&', '=', '.', '..', '%', '%2F', '%2E', '%2e', '%00', '%C3%A9', '%E2', '+', ' ', '@', '~', 'é', '🔑', '\uD800', '\n', 'version=1', 'secret', 'vault'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.constantFrom('', 'vault://', 'secret://', 'file:///'), fc.array(piece, { maxLength: 24 }), (prefix, pieces) => {
        const input = prefix + pieces.join('');
        let ref;
        try {
          ref = parseRef(input);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidSecretRefError);
          return;
        }
        const canonical = formatRef(ref);
        const again = parseRef(canonical);
        expect(again).toStrictEqual(ref);
        expect(formatRef(again)).toBe(canonical);
      }),
      { numRuns: 3000 },
    );
  });
});
