import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import type { Redactor } from '../redact/redactor.js';
import { Secret } from '../secret.js';
import { expectNoSecrets, findLeaks, type CapturedOutput, type Leak } from './expectNoSecrets.js';

/**
 * Options of {@link plantCanaries}.
 *
 * @example
 * ```ts
 * const canaries = plantCanaries(secrets, { count: 5 });
 * ```
 */
export interface CanaryOptions {
  /**
   * How many canaries.
   * @default 3
   */
  readonly count?: number;
  /**
   * The ref prefix the canaries are registered under (`<prefix>/<n>`).
   * @default 'canary://'
   */
  readonly refPrefix?: string;
}

/**
 * Random canary secrets, registered with a redactor. Hand them to the code under test wherever a
 * real secret would go; afterwards, {@link Canaries.expectAbsent} checks that none of them, in
 * any encoding, reached the captured output.
 */
export interface Canaries {
  /** The canary values. Random per call; never real credentials. */
  readonly values: readonly string[];
  /** The canaries as `Secret`s (printing as the placeholder, like real ones). */
  readonly secrets: readonly Secret<string>[];
  /** Every leak of a canary in `output` (empty when there is none). */
  leaks(output: CapturedOutput): Leak[];
  /**
   * Throws an `AssertionError` naming each canary found in `output` (never its value).
   * @example
   * ```ts
   * canaries.expectAbsent(captured.text);
   * ```
   */
  expectAbsent(output: CapturedOutput): void;
}

/**
 * Registers random canary secrets with a redactor (or a client's) and returns them, with a check
 * that none reaches an output. Canaries vary in shape so that encodings differ: plain base64url,
 * one with a space, quotes, a slash, `+`, `&`, `%` and a non-ASCII letter, and a multi-line one.
 *
 * @param target - a redactor, or anything with one (a secrets client).
 * @example
 * ```ts
 * const canaries = plantCanaries(secrets);
 * const out = await captureOutput(() => connector.run({ token: canaries.secrets[0] }));
 * canaries.expectAbsent(out.text);
 * ```
 */
export function plantCanaries(target: Redactor | { readonly redactor: Redactor }, options: CanaryOptions = {}): Canaries {
  const redactor = 'redactor' in target ? target.redactor : target;
  const count = options.count ?? 3;
  const prefix = options.refPrefix ?? 'canary://';
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const rand = randomBytes(12).toString('base64url');
    const shape = i % 3;
    values.push(
      shape === 0 ? `cnry_${rand}` : shape === 1 ? `cnry ${rand} "p/w+&%é"` : `cnry-${rand}\n${randomBytes(24).toString('base64')}\ncnry-end-${rand.slice(0, 6)}`,
    );
  }
  const refs = values.map((_, i) => `${prefix}${i}`);
  values.forEach((v, i) => redactor.add(v, { ref: refs[i]! }));
  const secrets = values.map((v, i) => new Secret(v, { ref: refs[i]!, provider: 'canary', placeholder: redactor.placeholder }));
  return {
    values,
    secrets,
    leaks: (output) => findLeaks(output, secrets),
    expectAbsent: (output) => expectNoSecrets(output, secrets),
  };
}

/** What {@link captureOutput} captured. */
export interface CapturedRun<T> {
  /** The function's result. */
  readonly result: T;
  /** Everything written to stdout and stderr meanwhile, in order, as text. */
  readonly text: string;
  /** What was written to `process.stdout`. */
  readonly stdout: string;
  /** What was written to `process.stderr`. */
  readonly stderr: string;
}

/**
 * Runs `fn` while capturing what is written to `process.stdout` and `process.stderr`, and what
 * `console.*` prints (test runners often reroute `console`; here it is written through
 * `process.stdout.write` / `process.stderr.write` instead, so wrappers installed inside `fn`,
 * such as `redactor.wrapProcessOutput()`, apply). Nothing reaches the terminal. Everything is
 * restored afterwards.
 *
 * @example
 * ```ts
 * const { text } = await captureOutput(async () => { console.log('syncing'); });
 * ```
 */
export async function captureOutput<T>(fn: () => T | Promise<T>): Promise<CapturedRun<T>> {
  const all: string[] = [];
  const per = { stdout: [] as string[], stderr: [] as string[] };
  const restore: (() => void)[] = [];
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = stream.write;
    stream.write = function (chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
      all.push(text);
      per[name].push(text);
      const cb = rest.find((r): r is () => void => typeof r === 'function');
      if (cb !== undefined) queueMicrotask(cb);
      return true;
    } as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
  const target = console as unknown as Record<string, unknown>;
  for (const [method, name] of [['log', 'stdout'], ['info', 'stdout'], ['debug', 'stdout'], ['warn', 'stderr'], ['error', 'stderr']] as const) {
    const original = target[method];
    target[method] = (...args: unknown[]) => void process[name].write(`${format(...args)}\n`);
    restore.push(() => {
      target[method] = original;
    });
  }
  try {
    const result = await fn();
    return { result, text: all.join(''), stdout: per.stdout.join(''), stderr: per.stderr.join('') };
  } finally {
    for (const r of restore.reverse()) r();
  }
}
