import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis, RedisOptions } from 'ioredis';
import { ConfigError, ProviderUnavailableError, isConnectorSecretsError } from '../errors.js';
import { checkTimerMs, systemClock, type Clock, type TimerId } from '../handles/clock.js';
import { peerLoadError } from '../peer.js';
import { backoffDelay, retryPolicy, type RetryPolicy } from '../retry.js';
import type { FleetBus, FleetEvent, FleetEventBody } from './bus.js';
import { checkFleetEventBody } from './event.js';
import { CatchUp } from './catchUp.js';
import { FleetListeners } from './listeners.js';

/**
 * Options of {@link redisBus}: a `url` or a `client` (at most one; neither means
 * `redis://127.0.0.1:6379`).
 *
 * @example
 * ```ts
 * const options: RedisBusOptions = { url: 'redis://fleet@redis.internal:6379/0', stream: 'orders:fleet-events', maxLen: 50_000 };
 * ```
 */
export interface RedisBusOptions {
  /** Where to connect (`redis://` or `rediss://`): the bus makes, and on `close()` quits, its two connections. */
  readonly url?: string;
  /**
   * An `ioredis` client to publish and read through; the bus duplicates it for its subscriber
   * connection. `close()` quits the duplicate, never this client.
   */
  readonly client?: Redis;
  /**
   * The pub/sub channel that announces new events (it carries stream ids only).
   * @default 'connector-secrets'
   */
  readonly channel?: string;
  /**
   * The stream key that holds the events: the durable log listeners read from.
   * @default 'connector-secrets:events'
   */
  readonly stream?: string;
  /**
   * Approximate length the stream is trimmed to on each publish (`XADD … MAXLEN ~ n`); Redis
   * trims whole nodes, so the stream may hold somewhat more. `Infinity` never trims. A listener
   * that was away longer than the retained history is told through `onGap`.
   * @default 10_000
   */
  readonly maxLen?: number;
  /**
   * Where listeners start, as for `postgresBus`: `'now'` for events published after `ready()`,
   * `'start'` for every event the stream still holds, or the stream id of the last event a
   * previous run handled ({@link RedisFleetBus.position}), to resume right after it.
   * @default 'now'
   */
  readonly from?: 'now' | 'start' | string;
  /**
   * How long `ready()` waits for the first connection, subscription and start position. Past it
   * the bus gives up: `ready()` rejects with a `ProviderUnavailableError` (code
   * `PROVIDER_UNAVAILABLE`), the bus closes and stops reconnecting, so nothing keeps the process
   * alive. Once ready, a lost connection is retried for as long as the bus is open.
   * @default 10_000
   */
  readonly readyTimeoutMs?: number;
  /**
   * The Redis client name of the bus's connections (`CLIENT LIST` shows it); the subscriber
   * connection's name ends in `:sub`. Letters, digits, `-`, `_`, `.` and `:`.
   * @default 'connector-secrets-fleet'
   */
  readonly connectionName?: string;
  /**
   * Reconnect backoff: full jitter, doubling from `baseDelayMs` up to `maxDelayMs`.
   * @default { baseDelayMs: 100, maxDelayMs: 5_000 }
   */
  readonly reconnect?: {
    /** The backoff cap before the first reconnect; it doubles per attempt. */
    readonly baseDelayMs?: number;
    /** The largest backoff cap. */
    readonly maxDelayMs?: number;
  };
  /** The random source of the backoff jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** The ready timeout's timer and the events' `at`. @default the system clock */
  readonly clock?: Clock;
  /** This instance's origin id. @default `<hostname>:<pid>:<8 random hex>` */
  readonly origin?: string;
  /**
   * Told when events this bus's listeners should have heard are gone: the stream was trimmed
   * (or entries deleted) past the last event they were given, typically after a worker was away
   * longer than `maxLen` events of history. Invalidate everything derived from fleet events
   * (drop cached values, re-read policy and quarantines). Listeners then go on from the oldest
   * retained event.
   * @default emits a process warning with code `CONNECTOR_SECRETS_FLEET_GAP`
   */
  readonly onGap?: (gap: RedisFleetGap) => void;
  /** Told of a lost connection, a failed catch-up, a stream entry that is not a valid event, or a listener that threw. */
  readonly onError?: (err: unknown) => void;
}

/** What {@link RedisBusOptions.onGap} is told: the events after `after`, up to and including `through`, were gone before they were read. */
export interface RedisFleetGap {
  /** The stream id of the last event delivered (or the position the bus started from). */
  readonly after: string;
  /** The newest id known to be gone, or `null` when the whole stream was deleted. */
  readonly through: string | null;
  /** The id of the event delivered next (the oldest retained after the gap), or `null` when none is left. */
  readonly firstRetained: string | null;
}

/** A {@link FleetBus} over Redis, with the position a restarted process resumes from. */
export interface RedisFleetBus extends FleetBus {
  /**
   * The stream id of the last event handed to listeners (or the starting point once `ready()`
   * has resolved); `undefined` before. Store it, and pass it as `from` to resume after a restart.
   */
  readonly position: string | undefined;
}

const BATCH = 500;
const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
/** Redis answers that a reconnect cannot heal: a bad login, a user without the rights. */
const PERMANENT = /^(WRONGPASS|NOAUTH|NOPERM)/;

/**
 * Stores the event in the stream, then announces its id, in one script: Redis runs it whole, so
 * nobody hears of an event the stream does not hold, and announcements go out in id order. Each
 * entry records `prev`, the stream's last id before it: a reader whose position is older than the
 * `prev` of the next entry it reads knows that the entries between were trimmed or deleted.
 */
const PUBLISH_LUA = `
local prev = '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then prev = info[i + 1] break end
  end
end
local id
if ARGV[1] == '' then
  id = redis.call('XADD', KEYS[1], '*', 'body', ARGV[2], 'at', ARGV[3], 'origin', ARGV[4], 'prev', prev)
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'body', ARGV[2], 'at', ARGV[3], 'origin', ARGV[4], 'prev', prev)
end
redis.call('PUBLISH', ARGV[5], id)
return id
`;

/**
 * A fleet bus over Redis pub/sub, with a Redis stream as its durable log (`ioredis`, an optional
 * peer, is loaded on first use).
 *
 * `publish` runs one Lua script that `XADD`s the event to the stream (the stream id becomes the
 * event's `id`) and `PUBLISH`es that id on the channel, so an event is stored before anyone hears
 * of it. Listeners never take an event from the channel: an announcement only makes the bus read
 * the stream after the last id it delivered (`XRANGE (last`), so each event reaches them once,
 * in stream-id order, own events included. The subscriber connection is dedicated; when it is
 * lost (ioredis reconnects with backoff) the bus subscribes again and reads everything published
 * meanwhile. A worker restarted with `from: <its last position>` resumes where it stopped.
 *
 * History is bounded by `maxLen` (approximate trimming). When a listener's next event was trimmed
 * away before it read it, the bus calls `onGap` (Redis 7 reports exactly what was trimmed) and
 * goes on from the oldest retained event: the client should then invalidate everything.
 *
 * Events carry refs, identities, lease ids and policies, never values.
 *
 * @throws `ConfigError` for invalid options (the URL is never repeated: it may hold a password).
 * @example
 * ```ts
 * const bus = redisBus({ url: process.env.FLEET_REDIS_URL ?? 'redis://127.0.0.1:6379', readyTimeoutMs: 5_000 });
 * bus.subscribe((event) => console.log(event.type, event.id));
 * await bus.ready();
 * await bus.publish({ type: 'rotated', ref: 'vault://kv/orders-db', version: '7' });
 * await bus.close();
 * ```
 */
export function redisBus(options: RedisBusOptions = {}): RedisFleetBus {
  if (typeof options !== 'object' || options === null) throw new ConfigError('redisBus options must be an object');
  if (options.url !== undefined && options.client !== undefined) throw new ConfigError('redisBus takes a url or a client, not both');
  if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    throw new ConfigError('redisBus url must be a redis:// or rediss:// URL');
  }
  if (options.client !== undefined && typeof (options.client as Partial<Redis>).duplicate !== 'function') throw new ConfigError('redisBus client must be an ioredis client');
  const channel = options.channel ?? 'connector-secrets';
  const stream = options.stream ?? 'connector-secrets:events';
  for (const [k, v] of [
    ['channel', channel],
    ['stream', stream],
  ] as const) {
    if (typeof v !== 'string' || v === '' || v.length > 256) throw new ConfigError(`redisBus ${k} must be a non-empty string of at most 256 characters`);
  }
  const maxLen = options.maxLen ?? 10_000;
  if (maxLen !== Infinity && !(Number.isSafeInteger(maxLen) && maxLen >= 1)) throw new ConfigError('redisBus maxLen must be a positive integer or Infinity');
  const from = options.from ?? 'now';
  if (from !== 'now' && from !== 'start' && !(typeof from === 'string' && parseId(from) !== undefined)) {
    throw new ConfigError("redisBus from must be 'now', 'start' or a stream id (<ms>-<seq>)");
  }
  const readyTimeoutMs = checkTimerMs('redisBus readyTimeoutMs', options.readyTimeoutMs ?? 10_000, 1);
  const connectionName = options.connectionName ?? 'connector-secrets-fleet';
  if (typeof connectionName !== 'string' || !NAME.test(connectionName)) throw new ConfigError('redisBus connectionName must be 1 to 100 letters, digits, -, _, . or :');
  const origin = options.origin ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  if (typeof origin !== 'string' || origin === '' || origin.length > 256) throw new ConfigError('redisBus origin must be a non-empty string of at most 256 characters');
  const policy = retryPolicy({ baseDelayMs: options.reconnect?.baseDelayMs ?? 100, maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000 });
  return new RedisBus({ ...options, channel, stream, maxLen, readyTimeoutMs, connectionName, origin }, policy);
}

type Resolved = RedisBusOptions & {
  readonly channel: string;
  readonly stream: string;
  readonly maxLen: number;
  readonly readyTimeoutMs: number;
  readonly connectionName: string;
  readonly origin: string;
};

/** A stream entry as XRANGE returns it: the id and a flat field/value list. */
type Entry = [id: string, fields: string[]];

class RedisBus implements RedisFleetBus {
  readonly name = 'redis';
  readonly origin: string;
  readonly #o: Resolved;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #policy: RetryPolicy;
  readonly #listeners = new FleetListeners((err) => this.#report(err));
  readonly #clients: Promise<{ readonly cmd: Redis; readonly sub: Redis }>;
  #owned: Redis[] = [];
  #last: bigint[] | undefined;
  #closed = false;
  readonly #catchUp = new CatchUp(
    () => this.#readOnce(),
    () => !this.#closed,
    (err) => this.#report(err),
  );
  #readyTimer: TimerId | undefined;
  readonly #ready: Promise<void>;
  #settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  #failure: unknown;
  #lastError: unknown;
  #starting: Promise<bigint[]> | undefined;
  /** Listeners put on a caller's client, taken off again by close(). */
  #detach: (() => void) | undefined;

  constructor(options: Resolved, policy: RetryPolicy) {
    this.#o = options;
    this.origin = options.origin;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#policy = policy;
    this.#ready = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#ready.catch(() => {});
    // Not a background timer: a caller awaits ready(), and it must end in an answer.
    this.#readyTimer = this.#clock.setTimeout(() => {
      this.#readyTimer = undefined;
      const cause = this.#lastError;
      void this.#fail(new ProviderUnavailableError(`the Redis fleet bus was not ready within ${options.readyTimeoutMs} ms; check that Redis is reachable`, { provider: 'redis', cause }));
    }, options.readyTimeoutMs);
    this.#clients = this.#open();
    this.#clients.catch((err: unknown) => void this.#fail(err));
  }

  get position(): string | undefined {
    return this.#last === undefined ? undefined : formatId(this.#last);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    return this.#listeners.subscribe(listener);
  }

  async publish(input: FleetEventBody): Promise<FleetEvent> {
    if (this.#closed) throw this.#closedError();
    const body = checkFleetEventBody(input);
    const { cmd } = await this.#clients;
    if (this.#closed) throw this.#closedError();
    const at = new Date(this.#clock.now()).toISOString();
    const maxLen = this.#o.maxLen === Infinity ? '' : String(this.#o.maxLen);
    let id: unknown;
    try {
      id = await cmd.eval(PUBLISH_LUA, 1, this.#o.stream, maxLen, JSON.stringify(body), at, this.origin, this.#o.channel);
    } catch (err) {
      throw new ProviderUnavailableError('could not publish the fleet event to Redis', { provider: 'redis', cause: err });
    }
    if (typeof id !== 'string' || parseId(id) === undefined) throw new ProviderUnavailableError('Redis answered the publish without a stream id', { provider: 'redis' });
    return { ...body, id, at, origin: this.origin } as FleetEvent;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.#readyTimer !== undefined) this.#clock.clearTimeout(this.#readyTimer);
    this.#readyTimer = undefined;
    const settle = this.#settle;
    this.#settle = undefined;
    await this.#clients.catch(() => undefined);
    this.#detach?.();
    this.#detach = undefined;
    const owned = this.#owned;
    this.#owned = [];
    await Promise.all(owned.map((c) => quit(c)));
    // Only now: whoever sees ready() refused (a bus that gave up) finds its connections closed.
    settle?.reject(this.#failure ?? new ConfigError('the Redis fleet bus was closed before it was ready'));
  }

  /** Loads ioredis, makes the connections and starts connecting. */
  async #open(): Promise<{ cmd: Redis; sub: Redis }> {
    const Ctor = await loadIoredis();
    if (this.#closed) throw this.#closedError();
    const base: RedisOptions = {
      lazyConnect: true,
      // A publish fails rather than waiting through a long outage; the listening side reconnects forever.
      maxRetriesPerRequest: 2,
      retryStrategy: (times) => (this.#closed ? null : Math.max(1, backoffDelay(this.#policy, Math.min(times, 30), this.#random))),
    };
    let cmd: Redis;
    let sub: Redis;
    // ioredis re-subscribes by itself, but before telling us; we subscribe on 'ready' ourselves, so
    // the catch-up read starts only once the subscription is confirmed and no announcement slips between.
    const subOptions: RedisOptions = { ...base, autoResubscribe: false, connectionName: `${this.#o.connectionName}:sub` };
    if (this.#o.client !== undefined) {
      cmd = this.#o.client;
      sub = cmd.duplicate(subOptions);
      this.#owned = [sub];
    } else {
      const url = this.#o.url ?? 'redis://127.0.0.1:6379';
      cmd = new Ctor(url, { ...base, connectionName: this.#o.connectionName });
      sub = new Ctor(url, subOptions);
      this.#owned = [cmd, sub];
    }
    for (const c of this.#owned) c.on('error', (err: unknown) => this.#connectionError(err));
    // After an outage of the command connection, a catch-up read that failed is run again.
    const kick = () => this.#catchUp.kick();
    cmd.on('ready', kick);
    if (this.#o.client !== undefined) this.#detach = () => void cmd.off('ready', kick);
    sub.on('ready', () => void this.#listen(cmd, sub));
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.#o.channel) return;
      const id = parseId(message);
      // Already delivered (an announcement overtaken by a catch-up read): nothing to read.
      if (id !== undefined && this.#last !== undefined && compareIds(id, this.#last) <= 0) return;
      this.#catchUp.kick();
    });
    // A first connection that fails is retried by ioredis's retryStrategy; the ready timeout bounds it.
    for (const c of this.#owned) c.connect().catch(() => undefined);
    if (cmd.status === 'wait') cmd.connect().catch(() => undefined);
    return { cmd, sub };
  }

  /** On every (re)connection of the subscriber: subscribe, fix the start position once, then catch up. */
  async #listen(cmd: Redis, sub: Redis): Promise<void> {
    if (this.#closed) return;
    try {
      await sub.subscribe(this.#o.channel);
      if (this.#last === undefined) {
        // One start position, even if two reconnects race to fix it.
        const starting = (this.#starting ??= this.#start(cmd));
        starting.catch(() => {
          if (this.#starting === starting) this.#starting = undefined;
        });
        this.#last ??= await starting;
      }
    } catch (err) {
      if (this.#closed) return;
      // The next 'ready' (after ioredis reconnects) tries again; a dead connection is all it can be.
      this.#report(new ProviderUnavailableError('could not subscribe to the fleet channel; retrying on reconnect', { provider: 'redis', cause: err }));
      if (this.#settle !== undefined && isPermanent(err)) void this.#fail(new ProviderUnavailableError('Redis refused the fleet bus', { provider: 'redis', cause: err }));
      return;
    }
    if (this.#closed) return;
    if (this.#readyTimer !== undefined) this.#clock.clearTimeout(this.#readyTimer);
    this.#readyTimer = undefined;
    this.#settle?.resolve();
    this.#settle = undefined;
    this.#catchUp.kick();
  }

  /** The stream's last generated id (not its newest retained entry: that may have been deleted). */
  async #start(cmd: Redis): Promise<bigint[]> {
    if (this.#o.from === 'start') return parseId('0-0')!;
    if (this.#o.from !== undefined && this.#o.from !== 'now') return parseId(this.#o.from)!;
    let info: unknown;
    try {
      info = await cmd.xinfo('STREAM', this.#o.stream);
    } catch (err) {
      if (/no such key/i.test(String((err as Error).message))) return [0n, 0n];
      throw err;
    }
    const last = toMap(info).get('last-generated-id');
    return (typeof last === 'string' ? parseId(last) : undefined) ?? [0n, 0n];
  }

  /** Reads and delivers the entries after the position; `true` when a full batch came back. */
  async #readOnce(): Promise<boolean> {
    if (this.#last === undefined) return false; // #listen kicks once the start is fixed
    const { cmd } = await this.#clients;
    const after = formatId(this.#last);
    let info: [Error | null, unknown] | undefined;
    let range: [Error | null, unknown] | undefined;
    try {
      // One transaction: the trim state and the entries read are of the same moment.
      const replies = await cmd.multi().xinfo('STREAM', this.#o.stream).xrange(this.#o.stream, `(${after}`, '+', 'COUNT', BATCH).exec();
      [info, range] = (replies ?? []) as [Error | null, unknown][];
    } catch (err) {
      // The command connection's 'ready' kicks again once it is back.
      this.#report(new ProviderUnavailableError('could not read the fleet stream; retrying on reconnect', { provider: 'redis', cause: err }));
      return false;
    }
    if (this.#closed) return false;
    if (range === undefined || range[0] !== null) {
      this.#report(new ProviderUnavailableError('could not read the fleet stream', { provider: 'redis', cause: range?.[0] }));
      return false;
    }
    const entries = range[1] as Entry[];
    this.#checkGap(info, entries);
    for (const entry of entries) {
      if (this.#closed) return false;
      this.#deliver(entry);
    }
    return entries.length === BATCH;
  }

  /**
   * Before the entries of one read are delivered: events after our position are gone when the
   * stream no longer exists (deleted whole), or when it generated ids past our position but holds
   * none of them (all trimmed). A trim that left some is caught entry by entry, in #deliver.
   */
  #checkGap(info: [Error | null, unknown] | undefined, entries: readonly Entry[]): void {
    const last = this.#last!;
    if (isZero(last) || info === undefined) return; // from the start: whatever is retained is all there is
    if (info[0] !== null) {
      if (!/no such key/i.test(String((info[0] as Error).message))) return;
      // The stream is gone: a new one starts afresh.
      this.#last = [0n, 0n];
      this.#gap({ after: formatId(last), through: null, firstRetained: null });
      return;
    }
    if (entries.length > 0) return;
    const generated = toMap(info[1]).get('last-generated-id');
    const through = typeof generated === 'string' ? parseId(generated) : undefined;
    if (through === undefined || compareIds(through, last) <= 0) return;
    this.#last = through;
    this.#gap({ after: formatId(last), through: generated as string, firstRetained: null });
  }

  #gap(gap: RedisFleetGap): void {
    try {
      if (this.#o.onGap !== undefined) this.#o.onGap(gap);
      else process.emitWarning(`the Redis fleet stream lost events after ${gap.after} before this process read them (trimmed by maxLen or deleted); invalidate what fleet events maintain`, { code: 'CONNECTOR_SECRETS_FLEET_GAP' });
    } catch (err) {
      this.#report(err);
    }
  }

  #deliver([id, fields]: Entry): void {
    const parsed = parseId(id);
    const last = this.#last!;
    if (parsed === undefined || compareIds(parsed, last) <= 0) return;
    this.#last = parsed;
    const f = toMap(fields);
    // The entry's predecessor is past our position: the entries between were trimmed or deleted unread.
    const prev = f.get('prev');
    const before = typeof prev === 'string' ? parseId(prev) : undefined;
    if (before !== undefined && !isZero(last) && compareIds(before, last) > 0) this.#gap({ after: formatId(last), through: prev as string, firstRetained: id });
    let event: FleetEvent;
    try {
      const [raw, at, origin] = [f.get('body'), f.get('at'), f.get('origin')];
      if (typeof raw !== 'string' || typeof at !== 'string' || typeof origin !== 'string') throw new ConfigError('the entry lacks body, at or origin');
      event = { ...checkFleetEventBody(JSON.parse(raw) as unknown), id, at, origin } as FleetEvent;
    } catch (err) {
      // An entry someone wrote by hand is skipped (and reported), never delivered nor retried.
      this.#report(new ConfigError(`fleet stream entry ${id} is not a valid event; skipped`, { cause: err }));
      return;
    }
    this.#listeners.emit(event);
  }

  #connectionError(err: unknown): void {
    if (this.#closed) return;
    this.#lastError = err;
    this.#report(new ProviderUnavailableError('Redis connection error; reconnecting', { provider: 'redis', cause: err }));
    // A login the server refuses will be refused again: fail ready() now rather than at the timeout.
    if (this.#settle !== undefined && isPermanent(err)) void this.#fail(new ProviderUnavailableError('Redis refused the fleet bus login', { provider: 'redis', cause: err }));
  }

  /** Gives up before ready: rejects ready() and releases everything. */
  async #fail(err: unknown): Promise<void> {
    if (this.#closed || this.#settle === undefined) return;
    this.#failure = err;
    await this.close();
  }

  #closedError(): Error {
    return this.#failure instanceof Error && isConnectorSecretsError(this.#failure) ? this.#failure : new ConfigError('the Redis fleet bus is closed');
  }

  #report(err: unknown): void {
    try {
      this.#o.onError?.(err);
    } catch {
      // An error callback that throws has nowhere left to report to.
    }
  }
}

let loading: Promise<typeof Redis> | undefined;

/** ioredis on first use; a failed load is retried by the next bus. */
function loadIoredis(): Promise<typeof Redis> {
  loading ??= import('ioredis').then(
    (mod) => ((mod as { Redis?: typeof Redis }).Redis ?? (mod as unknown as { default: typeof Redis }).default),
    (err: unknown) => {
      loading = undefined;
      throw peerLoadError('ioredis', 'the Redis fleet bus', err);
    },
  );
  return loading;
}

/** Quits gracefully when connected (queued commands are answered first), else just disconnects. */
async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  client.disconnect(false);
}

function isPermanent(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && PERMANENT.test(message);
}

/** `<ms>-<seq>` as two numbers; Redis orders ids by ms, then seq (not as strings). */
function parseId(id: string): bigint[] | undefined {
  const m = STREAM_ID.exec(id);
  if (m === null) return undefined;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  return ms < 2n ** 64n && seq < 2n ** 64n ? [ms, seq] : undefined;
}

function isZero(id: readonly bigint[]): boolean {
  return id[0] === 0n && id[1] === 0n;
}

function compareIds(a: readonly bigint[], b: readonly bigint[]): number {
  if (a[0]! !== b[0]!) return a[0]! < b[0]! ? -1 : 1;
  return a[1]! === b[1]! ? 0 : a[1]! < b[1]! ? -1 : 1;
}

function formatId(id: readonly bigint[]): string {
  return `${id[0]}-${id[1]}`;
}

/** A flat `[k1, v1, k2, v2, …]` reply as a map (the first of a repeated key wins). */
function toMap(flat: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(flat)) return map;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i];
    if (typeof k === 'string' && !map.has(k)) map.set(k, flat[i + 1]);
  }
  return map;
}
