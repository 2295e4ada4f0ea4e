import type { ResolveContext } from '../../src/provider.js';
import { gcpAccessToken, fromGcpSecretManager, type FromGcpSecretManagerInit, type GcpAccessToken, type GcpAccessTokenInit } from '../../src/gcp/index.js';
import type { SecretProvider } from '../../src/provider.js';
import type { GoogleDoubles, ServiceAccountKey } from '../fixtures/gcp/index.js';

export const PROJECT = 'test-project';
export const READER = `reader@${PROJECT}.iam.gserviceaccount.com`;

/** A resolve context for calling a provider directly. */
export function resolveContext(overrides: Partial<ResolveContext> = {}): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now, ...overrides };
}

/** Closes what a test made. */
export class Closer {
  readonly #items: { close?: () => Promise<void> }[] = [];
  add<T extends { close?: () => Promise<void> }>(item: T): T {
    this.#items.push(item);
    return item;
  }
  async closeAll(): Promise<void> {
    await Promise.all(this.#items.splice(0).map((i) => i.close?.()));
  }
}

/** A token from a service-account key, traded at the token double. */
export function keyToken(doubles: GoogleDoubles, key: ServiceAccountKey, init: Partial<GcpAccessTokenInit> = {}): GcpAccessToken {
  return gcpAccessToken({ credentials: key, endpoints: { token: doubles.tokenUrl, iamCredentials: doubles.url }, ...init });
}

/** A Secret Manager provider against the doubles, with fast retries. */
export function smProvider(doubles: GoogleDoubles, auth: GcpAccessToken, init: Partial<FromGcpSecretManagerInit> = {}): SecretProvider {
  return fromGcpSecretManager({ projectId: PROJECT, apiEndpoint: doubles.url, auth, retry: { baseDelayMs: 1, maxDelayMs: 4 }, ...init });
}

/** A clock whose timers run when a test says so. */
export class ManualClock {
  #t: number;
  #seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = Date.now()) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#seq;
    this.timers.set(id, { at: this.#t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }
  /** Moves time forward, firing the timers that fall due. */
  advance(ms: number): void {
    this.#t += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.#t) continue;
      this.timers.delete(id);
      t.fn();
    }
  }
}
