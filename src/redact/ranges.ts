/**
 * Masked ranges of one text: collected from the automaton and the detectors, merged into their
 * union, then applied. Internal to the redactor.
 *
 * @module
 */

/** A growable list of `[start, end)` ranges, kept as their union. */
export class Ranges {
  #data = new Int32Array(32);
  #count = 0;
  /** False once a range arrived out of order; {@link Ranges.normalize} then sorts. */
  #ordered = true;

  /** Number of disjoint ranges (after {@link Ranges.normalize}). */
  get count(): number {
    return this.#count;
  }
  start(i: number): number {
    return this.#data[2 * i]!;
  }
  end(i: number): number {
    return this.#data[2 * i + 1]!;
  }

  clear(): void {
    this.#count = 0;
    this.#ordered = true;
  }

  /**
   * Adds `[start, end)`. Ranges arriving with non-decreasing ends (as the automaton reports
   * them) are merged on the spot: a new range swallows every earlier one it overlaps or touches.
   */
  push(start: number, end: number): void {
    if (end <= start) return;
    let d = this.#data;
    let n = this.#count;
    if (n > 0 && this.#ordered) {
      const lastEnd = d[2 * n - 1]!;
      if (end <= lastEnd) {
        if (start >= d[2 * n - 2]!) return; // inside the last range already
        this.#ordered = false;
      } else {
        while (n > 0 && start <= d[2 * n - 1]!) {
          if (d[2 * n - 2]! < start) start = d[2 * n - 2]!;
          n -= 1;
        }
      }
    }
    if (2 * n + 2 > d.length) {
      const bigger = new Int32Array(d.length * 2);
      bigger.set(d);
      this.#data = d = bigger;
    }
    d[2 * n] = start;
    d[2 * n + 1] = end;
    this.#count = n + 1;
  }

  /**
   * Sorts and merges (overlapping or touching ranges become one), in place: an insertion sort,
   * since a text has few ranges and they arrive nearly in order (the automaton's, then the
   * detectors'). Allocates nothing.
   */
  normalize(): void {
    const n = this.#count;
    if (this.#ordered || n < 2) {
      this.#ordered = true;
      return;
    }
    const d = this.#data;
    for (let i = 1; i < n; i++) {
      const s = d[2 * i]!;
      const e = d[2 * i + 1]!;
      let j = i - 1;
      while (j >= 0 && (d[2 * j]! > s || (d[2 * j] === s && d[2 * j + 1]! > e))) {
        d[2 * j + 2] = d[2 * j]!;
        d[2 * j + 3] = d[2 * j + 1]!;
        j--;
      }
      d[2 * j + 2] = s;
      d[2 * j + 3] = e;
    }
    let w = 0;
    for (let i = 1; i < n; i++) {
      const s = d[2 * i]!;
      const e = d[2 * i + 1]!;
      if (s <= d[2 * w + 1]!) {
        if (e > d[2 * w + 1]!) d[2 * w + 1] = e;
      } else {
        w++;
        d[2 * w] = s;
        d[2 * w + 1] = e;
      }
    }
    this.#count = w + 1;
    this.#ordered = true;
  }

  /** `text` with each range replaced by `placeholder` (call {@link Ranges.normalize} first). */
  apply(text: string, placeholder: string, from = 0, to = text.length): string {
    let out = '';
    let last = from;
    for (let i = 0; i < this.#count; i++) {
      const s = Math.max(this.start(i), from);
      const e = Math.min(this.end(i), to);
      if (e <= s) continue;
      out += text.slice(last, s) + placeholder;
      last = e;
    }
    return out + text.slice(last, to);
  }
}
