/** Upper bounds (ms) of the latency buckets; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/**
 * A latency histogram as numbers.
 *
 * @example
 * ```ts
 * const { count, sumMs, buckets } = secrets.metrics().latency.fetch;
 * const under100ms = buckets.filter((b) => b.leMs <= 100).reduce((n, b) => n + b.count, 0);
 * ```
 */
export interface HistogramSnapshot {
  /** How many observations. */
  readonly count: number;
  /** Their sum, in milliseconds. */
  readonly sumMs: number;
  /** The smallest, or 0 when empty. */
  readonly minMs: number;
  /** The largest, or 0 when empty. */
  readonly maxMs: number;
  /** Observations per bucket (not cumulative): `leMs` is the bucket's upper bound, `Infinity` for the last. */
  readonly buckets: readonly {
    /** The bucket's upper bound in ms (`Infinity` for the last). */
    readonly leMs: number;
    /** Observations in it. */
    readonly count: number;
  }[];
}

/** A fixed-bucket latency histogram. */
export class Histogram {
  readonly #counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Counts one observation, in milliseconds. */
  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.#counts[i] = this.#counts[i]! + 1;
    this.#count += 1;
    this.#sum += ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** The counts so far, as plain numbers. */
  snapshot(): HistogramSnapshot {
    return {
      count: this.#count,
      sumMs: this.#sum,
      minMs: this.#count === 0 ? 0 : this.#min,
      maxMs: this.#max,
      buckets: this.#counts.map((count, i) => ({ leMs: LATENCY_BUCKETS_MS[i] ?? Infinity, count })),
    };
  }
}
