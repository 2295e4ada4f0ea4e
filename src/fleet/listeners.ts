import { ConfigError } from '../errors.js';
import type { FleetEvent } from './bus.js';

/**
 * The listeners of one bus: what `subscribe` adds and each delivered event reaches, in
 * subscription order. A listener that throws is reported and does not stop the others.
 *
 * @internal
 */
export class FleetListeners {
  readonly #listeners = new Set<(event: FleetEvent) => void>();
  readonly #report: (err: unknown) => void;

  constructor(report: (err: unknown) => void) {
    this.#report = report;
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (event: FleetEvent) => void): () => void {
    if (typeof listener !== 'function') throw new ConfigError('subscribe needs a listener function');
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const one = (event: FleetEvent) => listener(event);
    this.#listeners.add(one);
    return () => void this.#listeners.delete(one);
  }

  emit(event: FleetEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
