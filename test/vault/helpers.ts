import type { Clock, TimerId, TimerOptions } from '../../src/handles/clock.js';
import type { ResolveContext } from '../../src/provider.js';
import type { FixtureClock, VaultServer } from '../fixtures/vault-server/index.js';

/** A resolve context for calling a provider directly. */
export function resolveContext(overrides: Partial<ResolveContext> = {}): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now, ...overrides };
}

/**
 * Simulated time shared by the fixture and the provider: `advance` moves the clock and runs the
 * timers that fall due, in order. HTTP still runs for real, so tests wait for its effects.
 */
export class SimClock implements Clock, FixtureClock {
  #t: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void; background: boolean }>();

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  setTimeout(fn: () => void, ms: number, options: TimerOptions = {}): TimerId {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#t + Math.max(0, ms), fn, background: options.background === true });
    return id;
  }
  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as number);
  }
  /** Pending timers' due times, earliest first. */
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }
  /** Due times of the pending timers a caller awaits (not background work), earliest first. */
  get awaited(): number[] {
    return [...this.#timers.values()].filter((t) => !t.background).map((t) => t.at).sort((a, b) => a - b);
  }
  /** Moves to `now + ms`, firing due timers one by one (each at its own time). */
  advance(ms: number): void {
    const end = this.#t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; background: boolean }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#t = Math.max(this.#t, next[1].at);
      next[1].fn();
    }
    this.#t = end;
  }
}

/** The fixture's recorded requests to a path (below /v1/). */
export function requestsTo(vault: VaultServer, path: string | RegExp): VaultServer['requests'] {
  return vault.requests.filter((r) => (typeof path === 'string' ? r.path === path : path.test(r.path)));
}

/** A policy that can do everything under the given paths. */
export function allUnder(...prefixes: string[]): Record<string, ('create' | 'read' | 'update' | 'delete' | 'list' | 'patch')[]> {
  return Object.fromEntries(prefixes.map((p) => [`${p}*`, ['create', 'read', 'update', 'delete', 'list', 'patch']]));
}
