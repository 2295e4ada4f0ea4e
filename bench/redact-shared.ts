// Helpers shared by the redaction benchmarks: generated secrets and log lines (nothing
// credential-shaped is written in these files) and a throughput meter. Run one bench alone
// with `npm run bench -- redact-throughput`.
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
 * `count` log lines of about `size` characters, each with `perLine` secrets taken from `secrets`
 * at random places among ordinary words.
 */
export function generateLines(count: number, secrets: readonly string[], perLine = 3, size = 1024, seed = 7): string[] {
  const rand = prng(seed);
  const lines: string[] = [];
  for (let n = 0; n < count; n++) {
    const parts: string[] = [`2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`];
    let len = parts[0]!.length;
    const slots = new Set<number>();
    while (slots.size < perLine) slots.add(Math.floor(rand() * 120));
    for (let w = 0; len < size; w++) {
      const word = slots.has(w) ? secrets[Math.floor(rand() * secrets.length)]! : `${WORDS[Math.floor(rand() * WORDS.length)]}${rand() < 0.3 ? `=${Math.floor(rand() * 100000)}` : ''}`;
      parts.push(word);
      len += word.length + 1;
    }
    lines.push(parts.join(' ').slice(0, size));
  }
  return lines;
}

/** Characters per second of `fn` over `lines` (cycled), for at least `minMs`; returns MB/s (1 char = 1 byte: ASCII). */
export function throughput(fn: (line: string) => string, lines: readonly string[], minMs: number): { mbps: number; lines: number } {
  let sink = 0;
  // Warm-up.
  for (let i = 0; i < Math.min(lines.length, 50); i++) sink += fn(lines[i]!).length;
  let chars = 0;
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let k = 0; k < 8; k++) {
      const line = lines[done % lines.length]!;
      sink += fn(line).length;
      chars += line.length;
      done += 1;
    }
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  if (sink === 0) throw new Error('unreachable: results not consumed');
  return { mbps: chars / 1e6 / (elapsed / 1000), lines: done };
}
