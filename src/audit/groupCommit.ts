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
 * Group commit, as databases do for their write-ahead log: items pushed while a write is in
 * flight go out together in a later write, in push order, so many records share one write (and
 * one `fdatasync`). Each pusher's promise settles with the batch that holds its item, not with
 * every batch before it; a failed write or sync rejects every pusher of the batches it covered.
 *
 * Two stages, each one at a time and in order: `write` (a batch) and, when given, `sync` (which
 * makes every batch written before it started durable, so one sync may cover several).
 *
 * Without `sync`, a write ends, its callers are released, and the next batch is cut a turn
 * later: the callers just released push their next records first and share it with what arrived
 * during the write (cut at once, two half-size batches would take turns, each paying a write).
 *
 * With `sync` (an `fdatasync`, or the file sink's worker thread writing a batch: time in which
 * this thread would idle), the next batch is written while the previous one syncs, so the
 * callers released by one sync run, and push their next records, while the other batch's sync is
 * in flight. To start that alternation, a batch cut while nothing is in flight takes half of what
 * is queued; the other half follows as soon as the first is written.
 *
 * Back-pressure: one write takes at most `maxBatch` items, and at most two batches are between
 * their write and their settling; the rest stay queued, in order. Every pusher awaits its item
 * (that is how the client waits for its record), so what is queued is bounded by the callers.
 *
 * An idle queue starts its first write on the next turn of the event loop (`setImmediate`, which
 * keeps the process alive while a caller waits), so callers of the same turn share it.
 *
 * @internal
 */
export class GroupCommit<T> {
  readonly #write: (items: T[]) => Promise<void>;
  readonly #sync: (() => Promise<void>) | undefined;
  readonly #maxBatch: number;
  #queue: Waiter<T>[] = [];
  /** A pump is scheduled for the next turn. */
  #scheduled = false;
  #writing = false;
  #syncing = false;
  /** Batches written and not yet settled (waiting for a sync, or settling). */
  #written: Waiter<T>[][] = [];
  /** Batches cut and not yet settled, the one being written included. */
  #inFlight = 0;
  #idle: (() => void)[] = [];

  /** How many batches may be between their write and their settling: two with a sync stage (one written while the other syncs). */
  readonly #depth: number;

  constructor(write: (items: T[]) => Promise<void>, maxBatch = DEFAULT_MAX_BATCH, sync?: () => Promise<void>) {
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new ConfigError('maxBatch must be a positive integer');
    this.#depth = sync === undefined ? 1 : 2;
    this.#write = write;
    this.#sync = sync;
    this.#maxBatch = maxBatch;
  }

  /** Queues `item`; settles once the batch holding it is written (and synced, with `sync`). */
  push(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#writing) this.#schedule();
    });
  }

  /** A pump on the next turn, so the pushes of this turn share the batch it cuts. */
  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0) return this.#checkIdle();
    this.#scheduled = true;
    nextTurn(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  /** Settles once everything pushed so far has been written and settled (or failed). */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#inFlight === 0 && !this.#scheduled;
  }

  /** Cuts and writes the next batch when the write stage is free and the pipeline has room. */
  #pump(): void {
    if (this.#writing || this.#queue.length === 0 || this.#inFlight >= this.#depth) return this.#checkIdle();
    const queued = this.#queue.length;
    // An equal share of what is queued for each free place in the pipeline: from a cold start the
    // callers split into `depth` groups that take turns from then on; in a full pipeline, all.
    const want = Math.ceil(queued / (this.#depth - this.#inFlight));
    const size = Math.min(want, this.#maxBatch);
    const batch = size === queued ? this.#queue : this.#queue.slice(0, size);
    this.#queue = size === queued ? [] : this.#queue.slice(size);
    this.#writing = true;
    this.#inFlight += 1;
    this.#write(batch.map((w) => w.item)).then(
      () => {
        this.#writing = false;
        if (this.#sync === undefined) {
          this.#settle([batch]);
          // A turn for the callers just released to push their next records: they share the next
          // write with what arrived during this one (cut at once, it would hold only the latter,
          // and the callers would settle into two half-size batches, each paying a whole write).
          this.#schedule();
        } else {
          this.#written.push(batch);
          this.#startSync();
          this.#pump();
        }
      },
      (err: unknown) => {
        this.#writing = false;
        this.#settle([batch], err);
        this.#schedule();
      },
    );
  }

  /** One sync at a time; it covers every batch written before it started. */
  #startSync(): void {
    if (this.#syncing || this.#written.length === 0) return;
    const covered = this.#written;
    this.#written = [];
    this.#syncing = true;
    this.#sync!().then(
      () => this.#synced(covered),
      (err: unknown) => this.#synced(covered, err),
    );
  }

  #synced(covered: Waiter<T>[][], err?: unknown): void {
    this.#syncing = false;
    this.#settle(covered, err);
    this.#startSync();
    this.#pump();
  }

  #settle(batches: Waiter<T>[][], err?: unknown): void {
    this.#inFlight -= batches.length;
    for (const batch of batches) for (const w of batch) (err === undefined ? w.resolve() : w.reject(err));
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idle.length === 0 || !this.#isIdle()) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const done of idle) done();
  }
}
