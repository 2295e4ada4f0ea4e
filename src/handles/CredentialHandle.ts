import { ConfigError, SecretExpiredError } from '../errors.js';
import { Emitter } from '../events.js';
import type { Lease } from '../provider.js';
import type { Secret } from '../secret.js';
import { checkTimerMs, sleep, systemClock, type Clock, type TimerId } from './clock.js';
import { isAuthError as defaultIsAuthError } from './isAuthError.js';
import { backoffMs, nextRefreshAt, type RefreshPolicy } from './schedule.js';

/** One credential as a source issues it. */
export interface IssuedCredential<T> {
  readonly secret: Secret<T>;
  /** Epoch ms when it stops working, if it expires. */
  readonly expiresAt?: number;
  /** Epoch ms when the source suggests refreshing. */
  readonly refreshAfter?: number;
  readonly lease?: Lease;
}

/** Where a handle gets credentials; the client provides one per ref. */
export interface CredentialSource<T> {
  readonly ref: string;
  /** A credential; `force` skips any cache. Calls are coalesced by the source. */
  fetch(force: boolean, signal: AbortSignal): Promise<IssuedCredential<T>>;
  /** Extends a lease; absent when the provider cannot. */
  renew?(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** Ends a lease; absent when the provider cannot. */
  revoke?(lease: Lease): Promise<void>;
  /** Called once when the handle is closed, after its leases were revoked. */
  closed?(): void;
  /**
   * Calls `onChange` when the value changed at its source (a rotation event); the handle then
   * reads it again at once. Returns an unsubscribe function, called on close.
   */
  subscribe?(onChange: () => void): () => void;
}

/**
 * Options of a credential handle (`secrets.handle(ref, options)`).
 *
 * @example
 * ```ts
 * const creds = secrets.handle('vault://database/creds/etl-reader', { refreshWindowMs: 60_000 });
 * ```
 */
export interface HandleOptions {
  /**
   * A credential is never handed out later than this before its expiry (at most an eighth of
   * its lifetime, so short-lived credentials still refresh ahead of time).
   * @default 1000
   */
  readonly safetyMarginMs?: number;
  /**
   * The refresh happens at the latest this long before expiry (shrunk to a quarter of short lifetimes).
   * @default 300_000 (5 minutes)
   */
  readonly refreshWindowMs?: number;
  /**
   * The refresh point is drawn uniformly from this fraction range of the lifetime.
   * @default [2/3, 3/4]
   */
  readonly refreshFraction?: readonly [number, number];
  /**
   * How often a credential without expiry is read again, so out-of-band rotation is noticed.
   * Like every timer option of a handle, at most 2^31 - 1 (the longest timer Node runs).
   * @default 300_000 (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * How long past `ttlMs` a credential without expiry may be served while re-reads fail.
   * @default 900_000 (15 minutes)
   */
  readonly maxStaleMs?: number;
  /**
   * First retry delay after a failed refresh; it doubles up to `backoffMaxMs`, with full jitter
   * (and a floor of 100 ms).
   * @default 1000
   */
  readonly backoffBaseMs?: number;
  /**
   * Longest retry delay.
   * @default 300_000 (5 minutes)
   */
  readonly backoffMaxMs?: number;
  /**
   * Upper bound of the random pause before the forced refresh `withCredential` makes after an
   * authentication failure, so a failing fleet does not hammer the backend at once.
   * @default 250
   */
  readonly authRetryCooldownMs?: number;
  /**
   * Whether `close()` revokes the current lease (and the previous one while it is alive).
   * @default true
   */
  readonly revokeOnClose?: boolean;
  /**
   * The clock and timers. Scheduled refreshes are background timers (they never keep the
   * process alive); the pause inside `withCredential` is awaited, so it does.
   * @default the system clock
   */
  readonly clock?: Clock;
  /**
   * The random source, in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
}

/** A lease renewal, as reported by the `renewed` event. */
export interface RenewedEvent {
  /** The handle's ref. */
  readonly ref: string;
  /** The extended lease. */
  readonly lease: Lease;
  /** Epoch ms of the new expiry. */
  readonly expiresAt: number;
}

/** The credential nears expiry and its refresh failed. */
export interface ExpiringEvent {
  /** The handle's ref. */
  readonly ref: string;
  /** Epoch ms of the expiry. */
  readonly expiresAt: number;
}

/** The credential expired with no replacement. */
export interface ExpiredEvent {
  /** The handle's ref. */
  readonly ref: string;
}

/** Events of a {@link CredentialHandle}. */
export interface HandleEvents<T> {
  /** A new credential replaced the previous one. */
  rotated: [next: Secret<T>, previous: Secret<T>];
  /** The lease was extended; the credential stays the same. */
  renewed: [RenewedEvent];
  /** A refresh failed while less than the refresh window remains. */
  expiring: [ExpiringEvent];
  /** A background refresh failed; it will be retried with backoff. */
  'refresh-error': [unknown];
  /** The credential expired with no replacement; `get()` now asks the provider itself. */
  expired: [ExpiredEvent];
  /** A lease revocation on close failed. */
  'revoke-error': [unknown];
  [event: string]: unknown[];
}

/**
 * An auto-refreshing credential: refreshed ahead of expiry with jitter, renewed while its
 * lease allows, replaced when it cannot be, and revoked on close.
 *
 * @example
 * ```ts
 * const creds = secrets.handle('vault://database/creds/etl', { schema: z.object({ username: z.string(), password: z.string() }) });
 * // pg cannot change a pool's login: a new pool for the new credential, the old one ended.
 * creds.onRotate((next) => { const old = pool; pool = new pg.Pool({ user: next.reveal().username, password: next.reveal().password }); void old.end(); });
 * await creds.withCredential(() => pool.query('select 1'));
 * await creds.close();
 * ```
 */
export interface CredentialHandle<T> {
  /** The ref this handle refreshes. */
  readonly ref: string;
  /** Epoch ms when the current credential expires, if it does. */
  readonly expiresAt: number | undefined;
  /** A currently valid credential; fetches one when none is held. */
  get(): Promise<Secret<T>>;
  /**
   * Forces a new credential, read after this call began: a refresh already in flight is waited
   * out, not joined; callers that arrive during it share the one read that follows.
   */
  refresh(): Promise<Secret<T>>;
  /**
   * Runs `fn` with the current credential; on an authentication failure, refreshes once
   * (coalesced, after a short jittered pause) and retries `fn` once.
   */
  withCredential<R>(fn: (credential: Secret<T>) => R | Promise<R>, options?: { isAuthError?: (err: unknown) => boolean }): Promise<R>;
  /** Listens to handle events; returns an unsubscribe function. */
  on<K extends keyof HandleEvents<T> & string>(event: K, listener: (...args: HandleEvents<T>[K]) => void): () => void;
  /** Calls `listener(next, previous)` on each rotation; returns an unsubscribe function. */
  onRotate(listener: (next: Secret<T>, previous: Secret<T>) => void): () => void;
  /** Cancels timers, aborts a refresh in flight and revokes leases. */
  close(): Promise<void>;
  /** Same as {@link CredentialHandle.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Held<T> {
  readonly secret: Secret<T>;
  /** Epoch ms up to which it may be handed out. */
  validUntil: number;
  /** Epoch ms of expiry (with renewals), if any. */
  expiresAt: number | undefined;
  lease: Lease | undefined;
  /** Epoch ms when the lease was first issued, for max TTL. */
  readonly leaseStart: number;
  refreshAt: number;
  expiringSaid: boolean;
  expiredSaid: boolean;
}

const MIN_RETRY_MS = 100;

/** Creates a handle over a source. The client's `secrets.handle()` is the usual way in. */
export function createCredentialHandle<T>(source: CredentialSource<T>, options: HandleOptions = {}): CredentialHandle<T> {
  return new Handle(source, options);
}

class Handle<T> implements CredentialHandle<T> {
  readonly ref: string;
  readonly #source: CredentialSource<T>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #policy: RefreshPolicy;
  readonly #o: Required<Omit<HandleOptions, 'clock' | 'random' | 'refreshFraction' | 'refreshWindowMs'>>;
  readonly #events: Emitter<HandleEvents<T>>;
  readonly #abort = new AbortController();
  #held: Held<T> | undefined;
  #previous: Held<T> | undefined;
  #flight: Promise<Held<T>> | undefined;
  #authFlight: Promise<Held<T>> | undefined;
  #timer: TimerId | undefined;
  /** The re-read after a change event; `get()` waits for it, so the new value is served at once. */
  #changing: Promise<void> | undefined;
  /** A change notice not yet followed by a read that began after it. */
  #changedAgain = false;
  readonly #unsubscribe: (() => void) | undefined;
  #failures = 0;
  #everHeld = false;
  #closed = false;

  constructor(source: CredentialSource<T>, options: HandleOptions) {
    this.ref = source.ref;
    this.#source = source;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    const [minFraction, maxFraction] = options.refreshFraction ?? [2 / 3, 3 / 4];
    if (!(minFraction > 0 && minFraction <= maxFraction && maxFraction < 1)) {
      throw new ConfigError('refreshFraction must be [min, max] with 0 < min <= max < 1');
    }
    this.#policy = { minFraction, maxFraction, refreshWindowMs: options.refreshWindowMs ?? 300_000 };
    this.#o = {
      safetyMarginMs: options.safetyMarginMs ?? 1000,
      // These become timer delays: Node would cut one above 2^31 - 1 ms to 1 ms.
      ttlMs: checkTimerMs('ttlMs', options.ttlMs ?? 300_000),
      maxStaleMs: options.maxStaleMs ?? 900_000,
      backoffBaseMs: checkTimerMs('backoffBaseMs', options.backoffBaseMs ?? 1000),
      backoffMaxMs: checkTimerMs('backoffMaxMs', options.backoffMaxMs ?? 300_000),
      authRetryCooldownMs: checkTimerMs('authRetryCooldownMs', options.authRetryCooldownMs ?? 250),
      revokeOnClose: options.revokeOnClose ?? true,
    };
    this.#events = new Emitter<HandleEvents<T>>();
    this.#unsubscribe = source.subscribe?.(() => this.#changed());
  }

  get expiresAt(): number | undefined {
    return this.#held?.expiresAt;
  }

  async get(): Promise<Secret<T>> {
    this.#assertOpen();
    if (this.#changing !== undefined) await this.#changing;
    const held = this.#held;
    const now = this.#clock.now();
    if (held !== undefined && now < held.validUntil) {
      // Stale-while-revalidate: hand out the current value; make sure a refresh is under way.
      if (now >= held.refreshAt && this.#flight === undefined) this.#background();
      return held.secret;
    }
    try {
      // After the first credential, always go past the client cache: it may hold the one that expired.
      return (await this.#acquire(this.#everHeld)).secret;
    } catch (err) {
      if (!this.#everHeld) throw err;
      throw new SecretExpiredError('the credential expired and could not be replaced', { ref: this.ref, cause: err });
    }
  }

  async refresh(): Promise<Secret<T>> {
    this.#assertOpen();
    return (await this.#readAfterFlight()).secret;
  }

  async withCredential<R>(fn: (credential: Secret<T>) => R | Promise<R>, options: { isAuthError?: (err: unknown) => boolean } = {}): Promise<R> {
    const detect = options.isAuthError ?? defaultIsAuthError;
    const used = await this.get();
    try {
      return await fn(used);
    } catch (err) {
      if (!detect(err)) throw err;
      // Another caller may already have replaced the credential that failed.
      const current = this.#held?.secret;
      const next = current !== undefined && current !== used ? current : await this.#authRefresh();
      return fn(next);
    }
  }

  on<K extends keyof HandleEvents<T> & string>(event: K, listener: (...args: HandleEvents<T>[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  onRotate(listener: (next: Secret<T>, previous: Secret<T>) => void): () => void {
    return this.#events.on('rotated', listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#cancelTimer();
    this.#abort.abort(new ConfigError('the credential handle was closed'));
    const now = this.#clock.now();
    const leases = [this.#held, this.#previous]
      .filter((h): h is Held<T> => h?.lease !== undefined && (h.expiresAt === undefined || h.expiresAt > now))
      .map((h) => h.lease!);
    if (this.#o.revokeOnClose && this.#source.revoke !== undefined) {
      const results = await Promise.allSettled(leases.map((l) => this.#source.revoke!(l)));
      for (const r of results) if (r.status === 'rejected') this.#events.emit('revoke-error', r.reason);
    }
    this.#source.closed?.();
    this.#events.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** One refresh at a time: joins the one in flight, else starts one. */
  #acquire(force: boolean, allowRenew = true): Promise<Held<T>> {
    this.#flight ??= this.#run(force, allowRenew).finally(() => {
      this.#flight = undefined;
    });
    return this.#flight;
  }

  /**
   * A forced read that began after now: a read in flight may predate what made the caller ask, so
   * it is waited out, not joined; the next one is shared by the callers arriving meanwhile.
   */
  async #readAfterFlight(): Promise<Held<T>> {
    await this.#flight?.catch(() => undefined);
    return this.#acquire(true, false);
  }

  #authRefresh(): Promise<Secret<T>> {
    this.#authFlight ??= (async () => {
      // A refresh already in flight when the credential was refused read before the refusal,
      // perhaps the very credential refused: it is waited out, not joined.
      const before = this.#flight;
      // The caller of withCredential awaits this pause, so it keeps the process alive.
      await sleep(this.#random() * this.#o.authRetryCooldownMs, { clock: this.#clock, signal: this.#abort.signal });
      if (before !== undefined && this.#flight === before) await before.catch(() => undefined);
      return this.#acquire(true, false);
    })().finally(() => {
      this.#authFlight = undefined;
    });
    return this.#authFlight.then((h) => h.secret);
  }

  async #run(force: boolean, allowRenew: boolean): Promise<Held<T>> {
    const held = this.#held;
    const alive = held?.expiresAt !== undefined && held.expiresAt > this.#clock.now();
    if (allowRenew && alive && held?.lease?.renewable && this.#source.renew !== undefined && !this.#nearMaxTtl(held)) {
      try {
        return this.#renewed(held, await this.#source.renew(held.lease, this.#abort.signal));
      } catch (err) {
        // A refused renewal means a new credential, read below.
        if (this.#closed) throw err;
      }
    }
    const issued = await this.#source.fetch(force, this.#abort.signal);
    this.#assertOpen();
    return this.#install(issued);
  }

  /** The safety margin, shrunk to an eighth of short lifetimes so it never precedes the refresh point (≤ 3/4). */
  #margin(lifetime: number): number {
    return Math.min(this.#o.safetyMarginMs, Math.max(0, lifetime) / 8);
  }

  #nearMaxTtl(held: Held<T>): boolean {
    const max = held.lease?.maxTtlMs;
    if (max === undefined || held.lease === undefined) return false;
    return held.leaseStart + max - this.#clock.now() <= held.lease.ttlMs;
  }

  #renewed(held: Held<T>, lease: Lease): Held<T> {
    const now = this.#clock.now();
    const maxEnd = lease.maxTtlMs === undefined ? Infinity : held.leaseStart + lease.maxTtlMs;
    const expiresAt = Math.min(now + lease.ttlMs, maxEnd);
    held.lease = lease;
    held.expiresAt = expiresAt;
    held.validUntil = expiresAt - this.#margin(expiresAt - now);
    held.refreshAt = nextRefreshAt(now, expiresAt, this.#policy, this.#random);
    held.expiringSaid = false;
    this.#failures = 0;
    this.#events.emit('renewed', { ref: this.ref, lease, expiresAt });
    this.#schedule(held.refreshAt);
    return held;
  }

  #install(issued: IssuedCredential<T>): Held<T> {
    const now = this.#clock.now();
    const expiresAt = issued.expiresAt ?? (issued.lease ? now + issued.lease.ttlMs : undefined);
    const held: Held<T> = {
      secret: issued.secret,
      expiresAt,
      lease: issued.lease,
      leaseStart: now,
      validUntil: expiresAt === undefined ? now + this.#o.ttlMs + this.#o.maxStaleMs : expiresAt - this.#margin(expiresAt - now),
      refreshAt:
        expiresAt === undefined
          ? issued.refreshAfter ?? now + this.#o.ttlMs
          : nextRefreshAt(now, expiresAt, this.#policy, this.#random, issued.refreshAfter),
      expiringSaid: false,
      expiredSaid: false,
    };
    const previous = this.#held;
    this.#held = held;
    this.#everHeld = true;
    this.#failures = 0;
    if (previous !== undefined && !sameCredential(previous.secret, held.secret)) {
      this.#previous = previous;
      this.#events.emit('rotated', held.secret, previous.secret);
    }
    this.#schedule(held.refreshAt);
    return held;
  }

  /**
   * The source says the value changed: read it now, past any cache and without renewing (a
   * renewal would keep the old credential). A failure is a failed background refresh: the
   * current credential is served while it is valid, and retried with backoff.
   */
  #changed(): void {
    if (this.#closed || !this.#everHeld) return;
    this.#changedAgain = true;
    this.#changing ??= this.#reread().finally(() => {
      this.#changing = undefined;
    });
  }

  /**
   * Reads the credential again for every change notice, never settling for a read that began
   * before the notice: a refresh in flight read the old value, so it is waited out (not joined),
   * and a notice that arrives during the re-read gets a re-read of its own.
   */
  async #reread(): Promise<void> {
    while (this.#changedAgain && !this.#closed) {
      this.#changedAgain = false;
      try {
        await this.#readAfterFlight();
      } catch (err) {
        this.#failed(err);
      }
    }
  }

  /** Starts a background refresh; its failure is handled here, never left unhandled. */
  #background(): void {
    this.#acquire(true).catch((err: unknown) => this.#failed(err));
  }

  #failed(err: unknown): void {
    if (this.#closed) return;
    this.#events.emit('refresh-error', err);
    const held = this.#held;
    const now = this.#clock.now();
    if (held === undefined || now >= held.validUntil) {
      this.#expire();
      return;
    }
    if (!held.expiringSaid && held.expiresAt !== undefined && held.expiresAt - now <= this.#policy.refreshWindowMs) {
      held.expiringSaid = true;
      this.#events.emit('expiring', { ref: this.ref, expiresAt: held.expiresAt });
    }
    // A floor keeps a random source stuck at 0 from spinning.
    const delay = Math.max(MIN_RETRY_MS, backoffMs(this.#failures++, this.#o.backoffBaseMs, this.#o.backoffMaxMs, this.#random));
    this.#schedule(Math.min(now + delay, held.validUntil));
  }

  /** Stops background work. The expired credential stays as `previous` for the next `rotated`, but is never handed out. */
  #expire(): void {
    this.#cancelTimer();
    const held = this.#held;
    if (held !== undefined && !held.expiredSaid) {
      held.expiredSaid = true;
      this.#events.emit('expired', { ref: this.ref });
    }
  }

  #schedule(at: number): void {
    this.#cancelTimer();
    if (this.#closed) return;
    // Nobody awaits a scheduled refresh: it must not keep the process alive.
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        const held = this.#held;
        if (held !== undefined && this.#clock.now() >= held.validUntil) this.#expire();
        else if (this.#flight === undefined) this.#background();
      },
      Math.max(0, at - this.#clock.now()),
      { background: true },
    );
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ConfigError('the credential handle was closed', { ref: this.ref });
  }
}

/** A re-read that returns the same version and value is not a rotation. */
function sameCredential<T>(a: Secret<T>, b: Secret<T>): boolean {
  if (a === b) return true;
  if (a.version !== b.version || a.disposed || b.disposed) return false;
  const [x, y] = [a.reveal(), b.reveal()];
  if (x instanceof Uint8Array && y instanceof Uint8Array) return Buffer.from(x).equals(Buffer.from(y));
  return typeof x === 'object' ? JSON.stringify(x) === JSON.stringify(y) : x === y;
}
