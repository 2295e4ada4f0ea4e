/**
 * The catch-up reads of one bus: one at a time, and one more after the current read whenever a
 * kick arrived while it ran, however that read ended (done, failed, or cut short by a reconnect).
 * A kick is never lost: a reconnect that kicks while a read on the dead connection is failing
 * gets its read.
 *
 * @internal
 */
export class CatchUp {
  readonly #read: () => Promise<boolean>;
  readonly #open: () => boolean;
  readonly #report: (err: unknown) => void;
  #running = false;
  #again = false;

  /**
   * @param read one read and delivery; resolves `true` when there may be more to read at once (a
   *   full batch). It reports its own failures; a rejection is reported as one and ends that read.
   * @param open whether the bus is still open.
   * @param report where a rejected read goes.
   */
  constructor(read: () => Promise<boolean>, open: () => boolean, report: (err: unknown) => void) {
    this.#read = read;
    this.#open = open;
    this.#report = report;
  }

  kick(): void {
    this.#again = true;
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#again && this.#open()) {
        this.#again = false;
        if (await this.#read().catch((err: unknown) => void this.#report(err))) this.#again = true;
      }
    } finally {
      this.#running = false;
    }
  }
}
