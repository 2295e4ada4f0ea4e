type Listener = (...args: unknown[]) => void;

/** A listener map: event name to listener arguments. */
export type EventMap = Record<string, unknown[]>;

/**
 * A minimal typed event emitter. A throwing listener never breaks the emitter's caller: its
 * error is reported to `onListenerError`.
 */
export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<Listener>>();
  readonly #onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as unknown as Listener);
    return () => set.delete(listener as unknown as Listener);
  }

  /** Calls every listener of `event` synchronously. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
