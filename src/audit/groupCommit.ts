import { ConfigError } from '../errors.js';
import { nextTurn } from '../handles/clock.js';

/** Records one write of a sink takes at most, by default; later ones wait for the next write. */
export const DEFAULT_MAX_BATCH = 4096;

interface Waiter<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit, as databases do for their write-ahead log: items pushed while a flush is in
 * flight go out together in the next flush, in push order, so many records share one write (and
 * one `fdatasync`). Each pusher's promise settles with the flush that holds its item, not with
 * every flush before it; a failed flush rejects every pusher of that batch.
 *
 * Back-pressure: one flush takes at most `maxBatch` items; the rest stay queued, in order, until
 * a later flush. Every pusher awaits its item (that is how the client waits for its record), so
 * what is queued is bounded by the callers waiting on it.
 *
 * An idle queue starts its flush on the next turn of the event loop (`setImmediate`, which keeps
 * the process alive while a caller waits), so callers of the same turn share the first flush too;
 * after each flush it waits one turn again, so the callers that flush released share the next.
 *
 * @internal
 */
export class GroupCommit<T> {
  readonly #flush: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  #queue: Waiter<T>[] = [];
  #running = false;
  #idle: (() => void)[] = [];

  constructor(flush: (items: T[]) => Promise<void>, maxBatch = DEFAULT_MAX_BATCH) {
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new ConfigError('maxBatch must be a positive integer');
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  /** Queues `item`; settles once the flush holding it has ended. */
  push(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        nextTurn(() => void this.#run());
      }
    });
  }

  /** Settles once everything pushed so far has been flushed (or failed). */
  drain(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      let batch: Waiter<T>[];
      if (this.#queue.length <= this.#maxBatch) {
        batch = this.#queue;
        this.#queue = [];
      } else {
        batch = this.#queue.slice(0, this.#maxBatch);
        this.#queue = this.#queue.slice(this.#maxBatch);
      }
      try {
        await this.#flush(batch.map((w) => w.item));
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      for (const w of batch) w.resolve();
      // Let the callers just released run to their next record before the next batch is cut:
      // taken at once, it would hold only what arrived during the flush, and the callers would
      // settle into two half-size batches taking turns, each paying a whole write (and fsync).
      await new Promise<void>((resolve) => nextTurn(resolve));
    }
    this.#running = false;
    const idle = this.#idle;
    this.#idle = [];
    for (const done of idle) done();
  }
}
