import { ConfigError } from '../errors.js';

/** An opaque timer id, as returned by {@link Clock.setTimeout}. */
export type TimerId = unknown;

/** How a timer relates to the process's lifetime. */
export interface TimerOptions {
  /**
   * `true` for work no caller awaits (scheduled refresh, renewal): the real clock unrefs such a
   * timer so it never keeps the process alive. Every other timer is one a caller's promise waits
   * on (a retry pause, a backoff, a timeout), and it keeps the process alive: were it unref'd, a
   * script awaiting the library would exit mid-operation, silently, with code 0.
   * @default false
   */
  readonly background?: boolean;
}

/**
 * Time for everything that schedules: tests and simulations pass a fake one.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => fakeNow, setTimeout: (fn, ms) => sim.at(fakeNow + ms, fn), clearTimeout: (id) => sim.cancel(id) };
 * ```
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Runs `fn` after `ms`. Only a timer marked `{ background: true }` may leave the process free
   * to exit; see {@link TimerOptions.background}.
   */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerId;
  /** Cancels a timer made by {@link Clock.setTimeout}. */
  clearTimeout(id: TimerId): void;
}

/** The longest delay Node's timers take (2^31 − 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A real timer that may be re-armed in steps, so delays beyond {@link MAX_TIMER_MS} are honoured. */
interface LongTimer {
  handle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The real clock. Globals are looked up at each call, so fake timers installed later apply.
 * Background timers are unref'd; all others keep the process alive. A delay longer than Node
 * allows is waited in steps instead of being cut to 1 ms by Node.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, options = {}) {
    const timer: LongTimer = { handle: undefined };
    const arm = (left: number) => {
      timer.handle = setTimeout(left > MAX_TIMER_MS ? () => arm(left - MAX_TIMER_MS) : fn, Math.min(Math.max(0, left), MAX_TIMER_MS));
      if (options.background === true) timer.handle.unref?.();
    };
    arm(ms);
    return timer;
  },
  clearTimeout(id) {
    const timer = id as LongTimer | undefined;
    if (timer?.handle !== undefined) clearTimeout(timer.handle);
  },
};

/**
 * Waits `ms` on `clock` (the system clock by default); rejects with the signal's reason when it
 * aborts first. A wait of 0 ms (or less) arms no timer and resolves at once. A caller awaits this, so the timer keeps the process alive: every retry pause,
 * backoff and awaited delay in connector-secrets goes through here.
 *
 * @example
 * ```ts
 * await sleep(backoffMs, { clock, signal });
 * ```
 */
export function sleep(ms: number, options: { readonly clock?: Clock; readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
  const { clock = systemClock, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // No wait means no timer: under fake timers (vi.useFakeTimers) even a 0 ms timer waits for
    // the test to advance the clock, so `authRetryCooldownMs: 0` would hang a test silently.
    if (!(ms > 0)) return resolve();
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Checks a duration option that becomes a timer: a finite number of ms in `[min, MAX_TIMER_MS]`.
 * Node cuts a longer timer to 1 ms, so such a setting would fire at once instead of never.
 *
 * @throws {@link ConfigError} naming the option (never its value's source).
 */
export function checkTimerMs(name: string, value: number, min = 0, ids: { readonly provider?: string } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new ConfigError(`${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS} (2^31 - 1, the longest timer Node runs)`, ids);
  }
  return value;
}

/**
 * Runs `fn` on the next turn of the event loop, after the I/O callbacks already due: batching
 * (the audit sinks' group commit) gathers what arrives meanwhile. It keeps the process alive,
 * as a caller awaits what it runs.
 */
export function nextTurn(fn: () => void): void {
  setImmediate(fn);
}

/**
 * Whether a long-lived handle (the audit sink's worker thread) keeps the process alive: only
 * while `busy`, that is, while a caller awaits work it does. Decided here, with the timers, so a
 * script that awaits us never exits with that work undone, and never hangs on an idle handle.
 */
export function holdWhile(handle: { ref(): void; unref(): void }, busy: boolean): void {
  if (busy) handle.ref();
  else handle.unref();
}
