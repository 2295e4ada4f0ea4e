import type { Clock } from '../src/handles/clock.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A discrete-event clock for simulations: timers fire in time order (a binary heap), and
 * between two firings every promise chain they started is allowed to settle.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: Timer[] = [];
  readonly #cancelled = new Set<number>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const timer = { id: ++this.#seq, at: this.#now + Math.max(0, ms), fn };
    this.#push(timer);
    return timer.id;
  }

  clearTimeout(id: unknown): void {
    this.#cancelled.add(id as number);
  }

  /** Runs every timer due up to `until`, in order, settling promises after each. */
  async runUntil(until: number): Promise<void> {
    while (this.#heap.length > 0 && this.#heap[0]!.at <= until) {
      const timer = this.#pop();
      if (this.#cancelled.delete(timer.id)) continue;
      this.#now = timer.at;
      timer.fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }

  #less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }

  #push(timer: Timer): void {
    const h = this.#heap;
    h.push(timer);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): Timer {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
