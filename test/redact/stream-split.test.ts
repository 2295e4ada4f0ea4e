import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor, type Redactor } from '../../src/index.js';
import { through } from './through.js';

// Split invariance of the redact stream with the default detectors on: whatever the chunking
// (strings or bytes, split inside a UTF-8 sequence or a surrogate pair), the concatenated output
// is exactly `redactor.redact(whole input)`.

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const word = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...ALNUM), minLength: min, maxLength: max });
/** Secret material: mostly ASCII, sometimes with 2-, 3- and 4-byte UTF-8 characters and quotes. */
const secretText = fc
  .array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ALNUM) }, { weight: 1, arbitrary: fc.constantFrom('é', '✓', '😀', '-', '_', '"', '\\', '/', '+', '\n', ' ') }), { minLength: 8, maxLength: 20 })
  .map((cs) => cs.join(''));

const DASHES = '-'.repeat(5);
const pemBlock = (body: string) => `${DASHES}BEGIN PRIVATE KEY${DASHES}\n${body}\n${body}\n${DASHES}END PRIVATE KEY${DASHES}`;

/** One piece of an input line: plain words, separators, registered secrets, detector-shaped text. */
function piece(secrets: readonly string[]) {
  return fc.oneof(
    { weight: 3, arbitrary: word(1, 6) },
    { weight: 3, arbitrary: fc.constantFrom(' ', ' ', '\n', '\r\n', '\t', ', ', 'é', '✓ ', '😀', '"', '=', ':') },
    { weight: 3, arbitrary: fc.constantFrom(...secrets) },
    { weight: 1, arbitrary: fc.constantFrom(...secrets).map((s) => encodeURIComponent(s)) },
    { weight: 1, arbitrary: fc.constantFrom(...secrets).map((s) => Buffer.from(s).toString('base64')) },
    { weight: 1, arbitrary: fc.constantFrom(...secrets).map((s) => JSON.stringify(s).slice(1, -1)) },
    { weight: 2, arbitrary: word(3, 14).map((v) => `password=${v}`) },
    { weight: 1, arbitrary: word(3, 14).map((v) => `"token":"${v} ${v}"`) },
    { weight: 1, arbitrary: word(3, 14).map((v) => `client_secret: ${v}`) },
    { weight: 2, arbitrary: fc.tuple(word(2, 6), word(4, 12)).map(([u, p]) => `postgres://${u}:${p}@db.internal:5432/orders`) },
    { weight: 1, arbitrary: fc.tuple(word(2, 6), word(4, 12)).map(([u, p]) => `https://${u}:${p}@api.example.com/x?key=${p}`) },
    { weight: 1, arbitrary: word(20, 30).map((t) => `Authorization: Bearer ${t}`) },
    { weight: 1, arbitrary: fc.tuple(word(3, 8), word(4, 10)).map(([u, p]) => `Authorization: Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`) },
    { weight: 1, arbitrary: word(3, 14).map((v) => `{"password": "${v}", "note": "a\\"b"}`) },
    { weight: 1, arbitrary: word(36, 36).map((t) => `ghp_${t}`) },
    { weight: 1, arbitrary: word(16, 16).map((t) => `AKIA${t.toUpperCase()}`) },
    { weight: 1, arbitrary: fc.tuple(word(8, 12), word(8, 12), word(8, 12)).map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`) },
    { weight: 1, arbitrary: word(16, 24).map(pemBlock) },
    { weight: 1, arbitrary: word(3, 8).map((v) => `password='${v}\\\n${v}'`) },
    { weight: 1, arbitrary: word(3, 8).map((v) => `progress ${v}\r`) },
    { weight: 1, arbitrary: word(3, 8).map((v) => `password="${v}\r${v}" Authorization: Bearer ${v}${v}\r${v}`) },
  );
}

const scenario = fc
  .array(secretText, { minLength: 1, maxLength: 3 })
  .chain((secrets) => fc.tuple(fc.constant(secrets), fc.array(piece(secrets), { minLength: 1, maxLength: 12 }).map((ps) => ps.join(''))));

/** Cuts `length` units at the given sorted, distinct interior points. */
function cutAt<T extends string | Buffer>(whole: T, points: readonly number[]): T[] {
  const out: T[] = [];
  let from = 0;
  for (const p of [...points, whole.length]) {
    out.push(whole.slice(from, p) as T);
    from = p;
  }
  return out;
}

/** A random partition into chunks of 1 to `max` units. */
const partition = (length: number, max: number) =>
  fc.array(fc.integer({ min: 1, max }), { minLength: length, maxLength: length }).map((sizes) => {
    const points: number[] = [];
    let at = 0;
    for (const s of sizes) {
      at += s;
      if (at >= length) break;
      points.push(at);
    }
    return points;
  });

function redactorFor(secrets: readonly string[]): Redactor {
  const redactor = createRedactor({ onWarning: () => {} });
  for (const s of secrets) redactor.add(s);
  return redactor;
}

describe('createRedactStream split invariance (default detectors)', () => {
  it('gives redact(whole) for every single split point, as strings and as bytes', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([secrets, text]) => {
        const redactor = redactorFor(secrets);
        const expected = redactor.redact(text);
        for (let cut = 0; cut <= text.length; cut++) {
          expect(await through(redactor, cutAt(text, cut === 0 || cut === text.length ? [] : [cut]))).toBe(expected);
        }
        const bytes = Buffer.from(text, 'utf8');
        for (let cut = 1; cut < bytes.length; cut++) {
          expect(await through(redactor, [bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(expected);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('gives redact(whole) for random partitions into 1–3 unit chunks and larger ones', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario.chain(([secrets, text]) => {
          const bytes = Buffer.from(text, 'utf8');
          return fc.tuple(fc.constant(secrets), fc.constant(text), partition(text.length, 3), partition(bytes.length, 3), partition(bytes.length, 40));
        }),
        async ([secrets, text, stringCuts, byteCuts, largeCuts]) => {
          const redactor = redactorFor(secrets);
          const expected = redactor.redact(text);
          const bytes = Buffer.from(text, 'utf8');
          expect(await through(redactor, cutAt(text, stringCuts))).toBe(expected);
          expect(await through(redactor, cutAt(bytes, byteCuts))).toBe(expected);
          expect(await through(redactor, cutAt(bytes, largeCuts))).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives redact(whole) for long inputs (many lines) in random partitions', async () => {
    const long = fc
      .array(secretText, { minLength: 1, maxLength: 4 })
      .chain((secrets) => fc.tuple(fc.constant(secrets), fc.array(piece(secrets), { minLength: 20, maxLength: 80 }).map((ps) => ps.join(''))));
    await fc.assert(
      fc.asyncProperty(
        long.chain(([secrets, text]) => fc.tuple(fc.constant(secrets), fc.constant(text), partition(Buffer.byteLength(text), 7), partition(Buffer.byteLength(text), 200))),
        async ([secrets, text, small, large]) => {
          const redactor = redactorFor(secrets);
          const expected = redactor.redact(text);
          const bytes = Buffer.from(text, 'utf8');
          expect(await through(redactor, cutAt(bytes, small))).toBe(expected);
          expect(await through(redactor, cutAt(bytes, large))).toBe(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('does not keep a detector guess masked when a held-back range touches a registered one (found by the property)', async () => {
    // A multi-line secret, then an AWS-key-shaped run that the next character ('a') undoes.
    const cases: [string[], string][] = [
      [['-eAFSp_DHw B+éT\nTi\\'], '-eAFSp_DHw B+éT\nTi\\AKIAAAAAAAAAAAAAAAAAa'],
      [['raOhRY_😀kol\\c1\n\n', 'W8y😀✓jX-zNO1+WWUw0'], 'raOhRY_😀kol\\c1\n\nAKIAAAAAAAAAAAAAAAAAW8y😀✓jX-zNO1+WWUw0'],
    ];
    for (const [secrets, text] of cases) {
      const redactor = redactorFor(secrets);
      expect(await through(redactor, [...text])).toBe(redactor.redact(text));
    }
  });

  it('masks a registered secret fed one to three bytes at a time (issue 10, item 1)', async () => {
    const secret = 'xYGB-2La_NMJI-q7Rw'; // generated once; shape of the issue's example
    for (const size of [1, 2, 3]) {
      const redactor = redactorFor([secret]);
      const bytes = Buffer.from(`got ${secret} ok\n`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(await through(redactor, chunks)).toBe('got [REDACTED] ok\n');
    }
  });
});
