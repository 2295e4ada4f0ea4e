import { randomBytes } from 'node:crypto';
import type { ResolvedSecret, SecretProvider } from '../src/provider.js';
import type { SecretRef } from '../src/ref/types.js';

/** A random test value; never a pasted credential. */
export function generated(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** A fake clock for injection. */
export function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** A provider whose behaviour a test scripts call by call. */
export function scripted(
  name: string,
  answer: (ref: SecretRef) => Promise<ResolvedSecret> | ResolvedSecret,
  extra: Partial<SecretProvider> = {},
): SecretProvider & { calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    schemes: ['test'],
    logical: true,
    ...extra,
    calls,
    async resolve(ref) {
      calls.push(String(ref));
      return answer(ref);
    },
  };
}

/** Every string an error shows: message, stack, and the same for each cause, recursively. */
export function errorText(err: unknown, seen = new Set<unknown>()): string {
  if (err === null || err === undefined || seen.has(err)) return '';
  seen.add(err);
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message, err.stack ?? '', String(err), JSON.stringify(err)];
  if (err instanceof AggregateError) for (const e of err.errors) parts.push(errorText(e, seen));
  parts.push(errorText(err.cause, seen));
  for (const [k, v] of Object.entries(err)) parts.push(k, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
  return parts.join('\n');
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(pending: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await pending;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

/**
 * Resolves when `cond()` holds, polling every 5 ms: for work that runs for real (HTTP, a child
 * process, a database) after a timer or an event. Rejects after `ms`, saying `what` (computed then,
 * when a function): a safety net for a loaded machine, not an assertion on speed, and by default
 * below the 20 s test timeout so the reason is printed.
 */
export async function until(cond: () => boolean, what: string | (() => string) = 'condition', ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Options for `vi.waitFor`: its 1 s default is short for real HTTP on a loaded 2-core machine. */
export const WAIT = { timeout: 10_000 } as const;
