/** An opaque timer id, as returned by {@link Clock.setTimeout}. */
export type TimerId = unknown;

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
  /** Runs `fn` after `ms`; the timer must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timer made by {@link Clock.setTimeout}. */
  clearTimeout(id: TimerId): void;
}

/** The real clock. Globals are looked up at each call, so fake timers installed later apply. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};
