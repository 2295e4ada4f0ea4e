import { ConfigError } from '../errors.js';
import type { Clock, TimerId, TimerOptions } from '../handles/clock.js';

/** A timer a {@link TestClock} holds, for assertions. */
export interface PendingTimer {
  /** Epoch ms (of the test clock) when it fires. */
  readonly at: number;
  /** Milliseconds from the clock's current time until it fires. */
  readonly inMs: number;
  /** Whether it is background work (a scheduled refresh or renewal) rather than a wait a caller awaits. */
  readonly background: boolean;
}

/**
 * A clock under the test's control, made by {@link createTestClock}. Pass it as
 * `createSecrets({ clock })`: cache TTLs, handles' refreshes and expiry, guard time windows,
 * audit times, retry pauses and providers that take the resolve context's clock then all run
 * on it, and nothing moves until the test says so.
 */
export interface TestClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order, at its own time,
   * and letting the promise chains each one starts settle before the next fires.
   */
  advance(ms: number): Promise<void>;
  /** Moves time to `epochMs` (forward: firing due timers as `advance` does; backward: firing none). */
  set(epochMs: number): Promise<void>;
  /** The timers not yet fired, earliest first. */
  pending(): readonly PendingTimer[];
}

/** Options of {@link createTestClock}. */
export interface TestClockOptions {
  /**
   * The starting time, in epoch milliseconds.
   * @default Date.UTC(2026, 0, 1)
   */
  readonly now?: number;
}

interface Timer {
  readonly seq: number;
  readonly at: number;
  readonly fn: () => void;
  readonly background: boolean;
}

// Promise chains started by a timer (a provider call, an audit record) run as microtasks; a
// generous number of turns lets them settle, and schedule their own timers, before time moves on.
const SETTLE_TURNS = 200;

async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await Promise.resolve();
}

/**
 * A fake clock for connector tests: one place controls time for the whole client. It uses no
 * real timer, so it works alike with or without `vi.useFakeTimers()`.
 *
 * @example
 * ```ts
 * import { createTestClock, fromMock } from 'connector-secrets/testing';
 * const clock = createTestClock();
 * const secrets = createSecrets({ environment: 'dev', providers: [mock], clock });
 * const token = secrets.handle('vault://kv/dev/orders-api');
 * await token.get();
 * await clock.advance(10 * 60_000); // the handle re-reads on its own schedule
 * expect(clock.pending()).toHaveLength(1);
 * ```
 */
export function createTestClock(options: TestClockOptions = {}): TestClock {
  let now = options.now ?? Date.UTC(2026, 0, 1);
  if (!Number.isFinite(now)) throw new ConfigError('createTestClock: now must be a finite number of epoch milliseconds');
  let seq = 0;
  const timers = new Set<Timer>();

  const next = (until: number): Timer | undefined => {
    let first: Timer | undefined;
    for (const t of timers) if (t.at <= until && (first === undefined || t.at < first.at || (t.at === first.at && t.seq < first.seq))) first = t;
    return first;
  };

  const runUntil = async (target: number): Promise<void> => {
    await settle();
    for (let t = next(target); t !== undefined; t = next(target)) {
      timers.delete(t);
      now = Math.max(now, t.at);
      t.fn();
      await settle();
    }
    now = Math.max(now, target);
  };

  return {
    now: () => now,
    // Arrow properties: this module only records timers, it never calls the global ones.
    setTimeout: (fn: () => void, ms: number, timerOptions: TimerOptions = {}): TimerId => {
      const timer: Timer = { seq: seq++, at: now + Math.max(0, ms), fn, background: timerOptions.background === true };
      timers.add(timer);
      return timer;
    },
    clearTimeout: (id: TimerId) => {
      timers.delete(id as Timer);
    },
    advance(ms) {
      if (!(typeof ms === 'number' && ms >= 0 && Number.isFinite(ms))) throw new ConfigError('advance(ms) takes a finite number of milliseconds, 0 or more');
      return runUntil(now + ms);
    },
    async set(epochMs) {
      if (!Number.isFinite(epochMs)) throw new ConfigError('set(epochMs) takes a finite number of epoch milliseconds');
      if (epochMs < now) {
        now = epochMs;
        return;
      }
      await runUntil(epochMs);
    },
    pending() {
      return [...timers]
        .sort((a, b) => a.at - b.at || a.seq - b.seq)
        .map((t) => ({ at: t.at, inMs: t.at - now, background: t.background }));
    },
  };
}
