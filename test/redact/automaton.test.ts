import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Automaton } from '../../src/redact/automaton.js';
import { Ranges } from '../../src/redact/ranges.js';

/** The union of all occurrences of all patterns, by brute force: the oracle. */
function bruteUnion(text: string, patterns: readonly string[]): [number, number][] {
  const covered = new Array<boolean>(text.length).fill(false);
  for (const p of patterns) {
    if (p.length === 0) continue;
    for (let i = text.indexOf(p); i !== -1; i = text.indexOf(p, i + 1)) for (let k = i; k < i + p.length; k++) covered[k] = true;
  }
  return runs(covered);
}

/** Merges touching ranges too, like Ranges does. */
function runs(covered: boolean[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < covered.length; i++) {
    if (!covered[i]) continue;
    const start = i;
    while (i < covered.length && covered[i]) i++;
    out.push([start, i]);
  }
  return out;
}

function scanUnion(a: Automaton, text: string): [number, number][] {
  const r = new Ranges();
  a.scan(text, (s, e) => r.push(s, e), Buffer.from(text, 'latin1'));
  r.normalize();
  const out: [number, number][] = [];
  for (let i = 0; i < r.count; i++) out.push([r.start(i), r.end(i)]);
  // Touching ranges are one run for the oracle as well.
  return runs(Array.from({ length: text.length }, (_, k) => out.some(([s, e]) => k >= s && k < e)));
}

describe('Automaton', () => {
  it('reports the longest pattern ending at each position', () => {
    const a = new Automaton();
    for (const p of ['abcdefgh', 'abcdefghijkl', 'ghijklmnop']) a.add(p);
    const hits: [number, number][] = [];
    const text = 'x abcdefghijklmnopq';
    a.scan(text, (s, e) => hits.push([s, e]), Buffer.from(text, 'latin1'));
    expect(hits).toContainEqual([2, 10]);
    expect(hits).toContainEqual([2, 14]);
    expect(hits).toContainEqual([8, 18]);
  });

  it('dedupes patterns and counts them', () => {
    const a = new Automaton();
    expect(a.add('secretvalue')).toBe(true);
    expect(a.add('secretvalue')).toBe(false);
    expect(a.add('')).toBe(false);
    expect(a.size).toBe(1);
    expect(a.longest).toBe(11);
  });

  it('finds patterns added after a scan (links are recomputed lazily)', () => {
    const a = new Automaton();
    a.add('hello-world-1');
    expect(scanUnion(a, 'say hello-world-2 and world-2')).toEqual([]);
    a.add('world-2');
    expect(scanUnion(a, 'say hello-world-2 and world-2')).toEqual([[10, 17], [22, 29]]);
    a.add('lo-world-2');
    expect(scanUnion(a, 'say hello-world-2 and world-2')).toEqual([[7, 17], [22, 29]]);
  });

  it('handles very long patterns without recursion', () => {
    const a = new Automaton();
    const long = 'ab'.repeat(50_000);
    a.add(long);
    a.add('b' + 'ab'.repeat(10));
    const text = `x${long}y`;
    expect(scanUnion(a, text)).toEqual([[1, 1 + long.length]]);
  });

  it('matches non-Latin-1 text exactly (the pre-check only hashes low bytes)', () => {
    const a = new Automaton();
    a.add('пароль-ключ'); // shares low bytes with other Cyrillic text
    const text = 'x пароль-ключ y пароль-клюя';
    expect(scanUnion(a, text)).toEqual([[2, 13]]);
  });

  it('agrees with a brute-force union on random patterns and texts (small alphabet: many overlaps)', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '😀'), minLength: 1, maxLength: 9 });
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 12 }), fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '😀', ' '), maxLength: 60 }), { minLength: 1, maxLength: 4 }), (patterns, texts) => {
        const a = new Automaton();
        // Interleave adds and scans, so stale links get exercised.
        patterns.forEach((p, i) => {
          a.add(p);
          const text = texts[i % texts.length]!;
          expect(scanUnion(a, text)).toEqual(bruteUnion(text, patterns.slice(0, i + 1)));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('returns where a match may still start at the end of the text', () => {
    const a = new Automaton();
    a.add('abcdefgh');
    const text = 'xx abcde';
    const open = a.scan(text, () => {}, Buffer.from(text, 'latin1'));
    expect(open).toBeLessThanOrEqual(3);
    const done = 'xx abcdefgh !';
    expect(a.scan(done, () => {}, Buffer.from(done, 'latin1'))).toBeGreaterThanOrEqual(done.length - 7);
  });
});

describe('Ranges', () => {
  it('merges overlapping and touching ranges, in any order', () => {
    const r = new Ranges();
    for (const [s, e] of [[10, 12], [0, 3], [2, 5], [5, 6], [11, 20], [30, 31]] as const) r.push(s, e);
    r.normalize();
    expect(r.apply('0123456789abcdefghijklmnopqrstuvwxyz', '#')).toBe('#6789#klmnopqrst#vwxyz');
  });
});
