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

  /** Sorts and merges (overlapping or touching ranges become one). */
  normalize(): void {
    if (this.#ordered || this.#count < 2) {
      this.#ordered = true;
      return;
    }
    const pairs: [number, number][] = [];
    for (let i = 0; i < this.#count; i++) pairs.push([this.start(i), this.end(i)]);
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.clear();
    for (const [s, e] of pairs) this.push(s, e);
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
