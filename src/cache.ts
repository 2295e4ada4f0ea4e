import { LRUCache } from 'lru-cache';
import { ConfigError } from './errors.js';
import type { ResolvedSecret } from './provider.js';

/**
 * Cache settings of a client.
 *
 * @example
 * ```ts
 * createSecrets({ environment: 'dev', providers, cache: { ttlMs: 60_000, maxStaleMs: 300_000 } });
 * ```
 */
export interface CacheOptions {
  /**
   * How long a value without its own expiry or lease is served before it is fetched again.
   * @default 300_000 (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * How many refs are kept; the least recently used is dropped first.
   * @default 1024
   */
  readonly maxEntries?: number;
  /**
   * How long past its freshness a value may still be served while the provider is
   * unavailable (never past the secret's own expiry). `0` turns stale-if-error off.
   * @default 900_000 (15 minutes)
   */
  readonly maxStaleMs?: number;
}

/** One cached provider answer. */
export interface CacheEntry {
  readonly provider: string;
  readonly resolved: ResolvedSecret;
  readonly fetchedAt: number;
  /** Served without asking the provider until this time. */
  readonly freshUntil: number;
  /** Served as stale-if-error until this time; dropped after it. */
  readonly staleUntil: number;
  /** The parsed JSON of a text value, filled on first `#field` use. */
  json?: unknown;
}

const DEFAULT_TTL_MS = 300_000;
const DEFAULT_MAX_STALE_MS = 900_000;

/**
 * A provider answer's entry: freshness from the secret's own refresh hint, expiry or lease, else
 * the TTL. A free function: a client without a cache builds entries on every fetch, and an
 * lru-cache made for each would cost more than the fetch.
 */
export function cacheEntry(provider: string, resolved: ResolvedSecret, now: number, ttlMs = DEFAULT_TTL_MS, maxStaleMs = DEFAULT_MAX_STALE_MS): CacheEntry {
  const expiresAt = resolved.expiresAt?.getTime();
  const own = resolved.refreshAfter?.getTime() ?? expiresAt ?? (resolved.lease ? now + resolved.lease.ttlMs : undefined);
  const freshUntil = own ?? now + ttlMs;
  const staleUntil = Math.min(freshUntil + maxStaleMs, expiresAt ?? Infinity);
  return { provider, resolved, fetchedAt: now, freshUntil, staleUntil };
}

/**
 * An lru-cache of provider answers with freshness from the secret's own expiry or lease,
 * and a hard stale bound. Times come from the client's clock.
 */
export class SecretCache {
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;

  constructor(options: CacheOptions = {}) {
    const { ttlMs = DEFAULT_TTL_MS, maxEntries = 1024, maxStaleMs = DEFAULT_MAX_STALE_MS } = options;
    if (!(maxEntries >= 1)) throw new ConfigError('cache.maxEntries must be at least 1');
    this.#lru = new LRUCache({ max: maxEntries });
    this.#ttlMs = ttlMs;
    this.#maxStaleMs = maxStaleMs;
  }

  /** The entry for `key` if it may still be served (fresh or stale), else undefined. */
  get(key: string, now: number): CacheEntry | undefined {
    const entry = this.#lru.get(key);
    if (entry !== undefined && now >= entry.staleUntil) {
      this.#lru.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Builds and stores the entry for a fresh provider answer; returns it. */
  set(key: string, provider: string, resolved: ResolvedSecret, now: number): CacheEntry {
    const entry = this.entryFor(provider, resolved, now);
    if (this.#ttlMs > 0 || resolved.expiresAt !== undefined || resolved.lease !== undefined) this.#lru.set(key, entry);
    return entry;
  }

  /** The entry for a fresh provider answer under this cache's TTL and stale bound, not stored. */
  entryFor(provider: string, resolved: ResolvedSecret, now: number): CacheEntry {
    return cacheEntry(provider, resolved, now, this.#ttlMs, this.#maxStaleMs);
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  get size(): number {
    return this.#lru.size;
  }
}
