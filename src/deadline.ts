import { AbortedError, ConfigError } from './errors.js';
import { systemClock } from './handles/clock.js';

/**
 * Per-call limits of `secrets.get` and `secrets.getBytes`.
 *
 * @example
 * ```ts
 * const pw = await secrets.get('secret://orders-db/password', { signal: controller.signal, timeoutMs: 5_000 });
 * ```
 */
export interface CallOptions {
  /** Rejects the call with {@link AbortedError} when aborted (with the signal's reason as `cause`). */
  readonly signal?: AbortSignal;
  /**
   * Rejects the call with {@link AbortedError} after this many milliseconds. The timer keeps the
   * process alive while the call is awaited, and is cleared when the call settles.
   * @default no limit
   */
  readonly timeoutMs?: number;
}

/**
 * Runs `start` unless the signal is already aborted, and settles with it unless the signal aborts
 * or the time runs out first. The work itself goes on (it may be shared with other callers);
 * a result that arrives after the caller gave up goes to `late` (e.g. to dispose it).
 */
export function withDeadline<T>(start: () => Promise<T>, options: CallOptions | undefined, late: (value: T) => void): Promise<T> {
  if (options === undefined) return start();
  const { signal, timeoutMs } = options;
  // By shape, not instanceof: a signal from another realm or a polyfill is as good.
  if (signal !== undefined && !isSignal(signal)) {
    return Promise.reject(new ConfigError('signal must be an AbortSignal'));
  }
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) {
    return Promise.reject(new ConfigError('timeoutMs must be a positive whole number of milliseconds'));
  }
  if (signal?.aborted) return Promise.reject(aborted(signal));
  const pending = start();
  if (signal === undefined && timeoutMs === undefined) return pending;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    // Not background: a caller awaits this timer, and a script that awaits us must not exit early.
    const timer = timeoutMs === undefined ? undefined : systemClock.setTimeout(() => giveUp(new AbortedError(`the call timed out after ${timeoutMs} ms`, { timeoutMs })), timeoutMs);
    const onAbort = () => giveUp(aborted(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      done = true;
      if (timer !== undefined) systemClock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    function giveUp(err: AbortedError) {
      if (done) return;
      settle();
      reject(err);
    }
    pending.then(
      (value) => {
        if (done) return late(value);
        settle();
        resolve(value);
      },
      (err: unknown) => {
        // After giving up, the work's own failure has no one to tell (and is not unhandled).
        if (done) return;
        settle();
        reject(err);
      },
    );
  });
}

function aborted(signal: AbortSignal): AbortedError {
  return new AbortedError('the call was aborted by its signal', { cause: signal.reason });
}

function isSignal(value: unknown): value is AbortSignal {
  const s = value as Partial<AbortSignal> | null;
  return typeof s === 'object' && s !== null && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}
