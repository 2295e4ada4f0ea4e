/**
 * A promise queue that runs tasks one at a time, in call order, so that read-modify-write
 * cycles on the store file never interleave within the process.
 *
 * @internal
 * @module
 */

/** Runs tasks one after another. A failed task does not stop later ones. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
