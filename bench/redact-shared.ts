// Helpers shared by the redaction benchmarks: generated secrets and log lines (nothing
// credential-shaped is written in these files), a throughput meter, and the standalone runner
// that lets each bench module run on its own (`npx tsx bench/redact-throughput.ts`).
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule } from './run.js';
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

/** A random value for places where a bench needs one more secret. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Runs a bench module on its own and writes bench/results/<name>.json like bench/run.ts does. */
export async function runStandalone(bench: BenchModule, moduleUrl: string): Promise<void> {
  if (process.argv[1] === undefined || pathToFileURL(path.resolve(process.argv[1])).href !== moduleUrl) return;
  console.log(`== ${bench.name}: ${bench.description}`);
  const outcome = await bench.run((line) => console.log(`   ${line}`));
  const pass = outcome.ratio <= outcome.target;
  console.log(`   ratio ${outcome.ratio.toFixed(2)} (target <= ${outcome.target}): ${pass ? 'PASS' : 'FAIL'}`);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${bench.name}.json`);
  const record = {
    bench: bench.name,
    description: bench.description,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    ratio: Math.round(outcome.ratio * 100) / 100,
    target: outcome.target,
    pass,
    figures: outcome.figures,
  };
  await writeFile(file, JSON.stringify(record, null, 2) + '\n');
  console.log(`   wrote ${path.relative(process.cwd(), file)}`);
}
