// The automaton's sampling pre-filter (issue 10, Speed): a bitmap of q-grams sampled every S
// positions, a second bitmap of pattern starts, and a bounded automaton run per hit. It must
// never miss an occurrence, whatever the set size, the shortest pattern (down to the 5-character
// default minimum, and below) or the order in which patterns arrive.
import { describe, expect, it } from 'vitest';
import { Automaton } from '../../src/redact/automaton.js';
import { Ranges } from '../../src/redact/ranges.js';
import { prng } from '../../bench/prng.js';

function words(rand: () => number, count: number, alphabet: string, min: number, max: number): string[] {
  return Array.from({ length: count }, () => {
    const len = min + Math.floor(rand() * (max - min + 1));
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  });
}

/** Covered positions, by brute force. */
function brute(text: string, patterns: readonly string[]): string {
  const covered = new Array<boolean>(text.length).fill(false);
  for (const p of new Set(patterns)) for (let i = text.indexOf(p); i !== -1; i = text.indexOf(p, i + 1)) for (let k = i; k < i + p.length; k++) covered[k] = true;
  return covered.map((c) => (c ? '#' : '.')).join('');
}

function scanned(a: Automaton, text: string): string {
  const r = new Ranges();
  a.scan(text, (s, e) => r.push(s, e), Buffer.from(text, 'latin1'));
  r.normalize();
  const covered = new Array<boolean>(text.length).fill(false);
  for (let i = 0; i < r.count; i++) for (let k = r.start(i); k < r.end(i); k++) covered[k] = true;
  return covered.map((c) => (c ? '#' : '.')).join('');
}

/** Texts of `filler` with patterns planted at random places (some overlapping, some at the ends). */
function texts(rand: () => number, patterns: readonly string[], filler: string, count: number): string[] {
  return Array.from({ length: count }, (_, n) => {
    let t = '';
    if (n % 3 === 0) t += patterns[Math.floor(rand() * patterns.length)]!;
    while (t.length < 300) {
      t += words(rand, 1, filler, 1, 12)[0]! + ' ';
      if (rand() < 0.3) t += patterns[Math.floor(rand() * patterns.length)]!;
    }
    if (n % 2 === 0) t += patterns[Math.floor(rand() * patterns.length)]!;
    return t;
  });
}

describe('automaton pre-filter', () => {
  it('finds every occurrence with thousands of patterns of 5 to 40 characters', () => {
    const rand = prng(1);
    const patterns = words(rand, 4000, 'abcdefghij0123', 5, 40);
    const a = new Automaton();
    // Scanned halfway, so links are computed, then grown through several doublings of the node
    // storage (each drops the cached links, to be recomputed as scans visit them).
    const half = patterns.slice(0, 400);
    for (const p of half) a.add(p);
    for (const text of texts(rand, half, 'abcdefghij0123 ', 20)) expect(scanned(a, text)).toBe(brute(text, half));
    const before = a.nodes;
    for (const p of patterns) a.add(p);
    expect(a.nodes).toBeGreaterThan(before * 8);
    for (const text of texts(rand, patterns, 'abcdefghij0123 ', 60)) expect(scanned(a, text)).toBe(brute(text, patterns));
  });

  it('stays exact when a short pattern arrives after long ones (the window shrinks)', () => {
    const rand = prng(2);
    const long = words(rand, 500, 'ABCDEFGHabcdefgh', 24, 40);
    const a = new Automaton();
    for (const p of long) a.add(p);
    const sample = texts(rand, long, 'abcdefgh', 10);
    for (const text of sample) expect(scanned(a, text)).toBe(brute(text, long));
    const short = ['Habcd', 'gh', 'x'];
    for (const p of short) {
      a.add(p);
      const all = [...long, ...short.slice(0, short.indexOf(p) + 1)];
      for (const text of [...sample, ...texts(rand, all, 'abcdefghx', 10)]) expect(scanned(a, text)).toBe(brute(text, all));
    }
  });

  it('stays exact past the rewind bound: long self-overlapping patterns and near misses', () => {
    const rand = prng(4);
    const patterns = ['a'.repeat(70) + 'b', 'a'.repeat(66) + 'c', `${'ab'.repeat(40)}x`, 'aaaaab', 'babab', 'b'.repeat(90)];
    const a = new Automaton();
    for (const p of patterns) a.add(p);
    for (let n = 0; n < 40; n++) {
      let text = '';
      while (text.length < 400) text += 'ab'[Math.floor(rand() * 2)]!.repeat(1 + Math.floor(rand() * 100)) + (rand() < 0.2 ? 'cx'[Math.floor(rand() * 2)] : '');
      expect(scanned(a, text)).toBe(brute(text, patterns));
    }
  });

  it('reports nothing on text without patterns', () => {
    const rand = prng(3);
    const patterns = words(rand, 2000, 'ABCDEFGHIJKLMNOP', 16, 32);
    const a = new Automaton();
    for (const p of patterns) a.add(p);
    let calls = 0;
    const text = words(rand, 200, 'abcdefghijklmnop', 3, 9).join(' ');
    a.scan(text, () => void calls++, Buffer.from(text, 'latin1'));
    expect(calls).toBe(0);
  });
});
