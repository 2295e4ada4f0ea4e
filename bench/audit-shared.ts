// What the audit benchmarks share: a `prod` client over `fromMock` with a given audit setup, and
// a closed-loop load of CALLERS concurrent callers that each await one `get` after another for a
// fixed span. Rates are gets per second of wall time, measured in one process, so the ratios
// between configurations of one run are what counts, not the absolute figures.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSecrets, type SecretsOptions } from '../src/client.js';
import { fromMock } from '../src/testing/index.js';

/** Concurrent callers, as in issue 17. */
export const CALLERS = 64;
export const REF = 'secret://orders-api/token';

/** A client made for one measurement, and how to end it. */
export interface Subject {
  readonly get: () => Promise<unknown>;
  readonly close: () => Promise<void>;
  /** Provider calls so far (to check a warm measurement stayed warm). */
  readonly calls: () => number;
}

/** A fresh directory for the logs of one bench run; removed by the returned function. */
export async function scratch(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cs-audit-bench-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A random HMAC key (generated: nothing credential-like is written in the bench files). */
export const benchKey = (): string => randomBytes(32).toString('hex');

/** A `prod` client over one mocked secret with the given options, warmed by one get. */
export async function subject(options: Omit<SecretsOptions, 'environment' | 'providers'>): Promise<Subject> {
  const mock = fromMock();
  mock.set(REF, randomBytes(24).toString('base64url'));
  const secrets = createSecrets({ environment: 'prod', strictEnvironment: false, providers: [mock], ...options });
  await secrets.get(REF);
  return { get: () => secrets.get(REF), close: () => secrets.close(), calls: () => mock.calls };
}

/** Gets per second with `callers` concurrent awaiting loops over `ms` milliseconds. */
export async function rate(get: () => Promise<unknown>, callers: number, ms: number): Promise<number> {
  let done = 0;
  const until = performance.now() + ms;
  const started = performance.now();
  const loop = async () => {
    // Check the time once per 64 gets: performance.now() would otherwise weigh on the fast cases.
    for (;;) {
      for (let i = 0; i < 64; i++) await get();
      done += 64;
      if (performance.now() >= until) return;
    }
  };
  await Promise.all(Array.from({ length: callers }, loop));
  return done / ((performance.now() - started) / 1000);
}

/**
 * Measures `a` and `b` (fresh subjects each round) `rounds` times, alternating which goes first,
 * and returns the rates of the round whose ratio a/b is the median (which damps noise from the
 * other helpers sharing this machine).
 */
export async function paired(
  make: { a: () => Promise<Subject>; b: () => Promise<Subject> },
  options: { rounds: number; ms: number; callers: number; log: (line: string) => void; labels: [string, string] },
): Promise<{ a: number; b: number; ratio: number; ratios: number[] }> {
  const results: { a: number; b: number; ratio: number }[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const order = r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    const got: Record<'a' | 'b', number> = { a: 0, b: 0 };
    for (const which of order) {
      const s = await make[which]();
      got[which] = await rate(s.get, options.callers, options.ms);
      await s.close();
    }
    const round = { a: got.a, b: got.b, ratio: got.a / got.b };
    results.push(round);
    options.log(`round ${r + 1}: ${options.labels[0]} ${fmt(round.a)}/s, ${options.labels[1]} ${fmt(round.b)}/s, ratio ${round.ratio.toFixed(3)}`);
  }
  const median = [...results].sort((x, y) => x.ratio - y.ratio)[Math.floor(results.length / 2)]!;
  return { ...median, ratios: results.map((x) => Math.round(x.ratio * 1000) / 1000) };
}

export function fmt(ops: number): string {
  return Math.round(ops).toLocaleString('en-US');
}
