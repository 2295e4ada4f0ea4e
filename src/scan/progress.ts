/**
 * A progress line for long scans, on stderr, only when stderr is a terminal (the CLI decides):
 * redrawn at most every 100 ms of the clock (src/handles/clock.ts; no timer is armed, the
 * redraw happens on the scan's own calls), erased when done.
 *
 * @module
 */
import { systemClock, type Clock } from '../handles/clock.js';

/** Draws `files done/total, MB read` on one line. */
export class ProgressLine {
  readonly #write: (s: string) => void;
  readonly #clock: Clock;
  #last = -Infinity;
  #drawn = false;

  constructor(write: (s: string) => void, clock: Clock = systemClock) {
    this.#write = write;
    this.#clock = clock;
  }

  /** Reports progress; draws when 100 ms have passed since the last drawing, or at the end. */
  update(done: number, total: number, bytes: number): void {
    const now = this.#clock.now();
    if (now - this.#last < 100 && done < total) return;
    this.#last = now;
    const width = 24;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    this.#write(`\r\u001b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} files, ${(bytes / 1e6).toFixed(1)} MB`);
    this.#drawn = true;
  }

  /** Erases the line. */
  done(): void {
    if (this.#drawn) this.#write('\r\u001b[2K');
    this.#drawn = false;
  }
}
