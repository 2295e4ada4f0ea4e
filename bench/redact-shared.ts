// Helpers shared by the redaction benchmarks: generated secrets and log lines (nothing
// credential-shaped is written in these files), a flat-string helper and a round-robin meter
// that measures several variants side by side, in CPU time of the process (the machines are
// shared), and reports medians of per-round ratios. Run one
// bench alone with `npm run bench -- redact-throughput`.
import { prng } from './prng.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `count` distinct random secrets of 24–40 characters (base64url alphabet). */
export function generateSecrets(count: number, seed = 1): string[] {
  const rand = prng(seed);
  const out = new Set<string>();
  while (out.size < count) {
    const len = 24 + Math.floor(rand() * 17);
    let s = '';
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rand() * 64)];
    out.add(s);
  }
  return [...out];
}

const WORDS = [
  'INFO', 'orders-sync', 'batch', 'committed', 'rows', 'table', 'orders', 'customers', 'latency', 'ms',
  'upstream', 'request', 'completed', 'status', '200', 'retrying', 'cursor', 'checkpoint', 'offset',
  'partition', 'schema', 'version', 'records', 'written', 'to', 'warehouse', 'stage', 'file', 'parquet',
  'snapshot', 'incremental', 'source', 'destination', 'connector', 'run', 'id', 'started', 'finished',
  'the', 'a', 'of', 'and', 'for', 'with', 'from', 'in', 'on', 'at', 'duration', 'bytes', 'page', 'next',
];

/**
 * A flat (sequential, one-byte) copy of `s`: not a slice or a rope of another string, so every
 * variant measured reads the same kind of string a logger hands over after serialization.
 */
export function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * `count` flat log lines of exactly `size` characters, each with `perLine` secrets taken from
 * `secrets` at random places among ordinary words, and optionally a `password=<random>` pair.
 */
export function generateLines(count: number, secrets: readonly string[], perLine = 3, size = 1024, seed = 7, passwordPair = false): string[] {
  const rand = prng(seed);
  const lines: string[] = [];
  for (let n = 0; n < count; n++) {
    const parts: string[] = [`2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`];
    let len = parts[0]!.length;
    const slots = new Set<number>();
    while (slots.size < perLine) slots.add(Math.floor(rand() * 100));
    const pairAt = passwordPair ? 5 + Math.floor(rand() * 90) : -1;
    for (let w = 0; len < size + 64; w++) {
      let word = slots.has(w) ? secrets[Math.floor(rand() * secrets.length)]! : `${WORDS[Math.floor(rand() * WORDS.length)]}${rand() < 0.3 ? `=${Math.floor(rand() * 100000)}` : ''}`;
      if (w === pairAt) word = `password=${Math.floor(rand() * 1e12).toString(36)}Q${Math.floor(rand() * 1e6)}`;
      parts.push(word);
      len += word.length + 1;
    }
    // Trim at a space so no secret is cut in half by the size limit.
    let line = parts.join(' ');
    const cut = line.lastIndexOf(' ', size);
    line = line.slice(0, cut) + ' '.repeat(size - cut);
    lines.push(flat(line));
  }
  return lines;
}

/** One measured variant: a function over a line whose result is consumed (a number or a string). */
export interface Variant {
  readonly name: string;
  readonly fn: (line: string) => number | string;
  readonly lines: readonly string[];
}

/**
 * CPU milliseconds used by this process so far (user + system). The machines these run on are
 * shared: wall time counts the time another process held the core, CPU time does not.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const CHECK_EVERY = 512;

/** MB/s of `fn` over `lines` (cycled) for at least `minMs` of CPU time (1 char = 1 byte: the lines are ASCII). */
export function meter(v: Variant, minMs: number): number {
  let sink = 0;
  const { fn, lines } = v;
  for (let i = 0; i < Math.min(lines.length, 20); i++) {
    const r = fn(lines[i]!);
    sink += typeof r === 'number' ? r : r.length;
  }
  let chars = 0;
  let done = 0;
  const start = cpuMs();
  let elapsed = 0;
  // The clock is read every CHECK_EVERY calls: process.cpuUsage() costs about 1.8 µs here, which
  // read every 16 calls added about 115 ns to each call measured (the identity variant showed it).
  do {
    for (let k = 0; k < CHECK_EVERY; k++) {
      const line = lines[done % lines.length]!;
      const r = fn(line);
      sink += typeof r === 'number' ? r : r.length;
      chars += line.length;
      done += 1;
    }
    elapsed = cpuMs() - start;
  } while (elapsed < minMs);
  if (sink === 0) throw new Error('unreachable: results not consumed');
  return chars / 1e6 / (elapsed / 1000);
}

/**
 * Measures `variants` round-robin (the order rotates each round, so all see the same machine
 * load) and returns, per variant, its MB/s per round; ratios are taken per round, then the median.
 */
export function rounds(variants: readonly Variant[], count: number, minMs: number, log?: (line: string) => void): Map<string, number[]> {
  const out = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + r) % variants.length]!;
      out.get(v.name)!.push(meter(v, minMs));
    }
    log?.(`round ${r + 1}: ${variants.map((v) => `${v.name} ${fmt(out.get(v.name)![r]!)} MB/s`).join(', ')}`);
  }
  return out;
}

/** The median of per-round ratios `a[i] / b[i]`. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function fmt(n: number, digits = 2): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The floor of any scan that reads every character: a bare `charCodeAt` loop. */
export function charCodeFloor(line: string): number {
  let h = 0;
  for (let i = 0; i < line.length; i++) h = (h + line.charCodeAt(i)) | 0;
  return h | 1;
}
