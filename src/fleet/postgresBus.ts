import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool, PoolClient } from 'pg';
import { ConfigError, ProviderUnavailableError } from '../errors.js';
import { systemClock, type Clock, type TimerId } from '../handles/clock.js';
import { peerLoadError } from '../peer.js';
import { backoffDelay, retryPolicy, type RetryPolicy } from '../retry.js';
import type { FleetBus, FleetEvent, FleetEventBody } from './bus.js';
import { checkFleetEventBody } from './event.js';
import { CatchUp } from './catchUp.js';
import { FleetListeners } from './listeners.js';

/**
 * Options of {@link postgresBus}: a `pool` or a `connectionString` (exactly one).
 *
 * @example
 * ```ts
 * const options: PostgresBusOptions = { connectionString: 'postgres://fleet@db.internal/ops', channel: 'orders_fleet' };
 * ```
 */
export interface PostgresBusOptions {
  /** A `pg.Pool` to use; the bus holds one of its connections for LISTEN and borrows one per publish. Not ended by `close()`. */
  readonly pool?: Pool;
  /** Where to connect when no pool is given: the bus makes (and ends) its own pool of at most 2 connections. */
  readonly connectionString?: string;
  /**
   * The NOTIFY channel (letters, digits and `_`, at most 63).
   * @default 'connector_secrets'
   */
  readonly channel?: string;
  /**
   * The events table, created if missing (letters, digits and `_`, at most 63).
   * @default 'connector_secrets_events'
   */
  readonly table?: string;
  /**
   * Where listeners start: `'now'` (events published after `ready()`), `'start'` (every event in
   * the table, oldest first), or the decimal id of the last event a previous run handled
   * ({@link PostgresFleetBus.position}), to resume right after it.
   * @default 'now'
   */
  readonly from?: 'now' | 'start' | string;
  /** Timers (reconnect backoff) and the events' `at`. @default the system clock */
  readonly clock?: Clock;
  /** This instance's origin id. @default `<hostname>:<pid>:<8 random hex>` */
  readonly origin?: string;
  /**
   * Reconnect backoff: full jitter, doubling from `baseDelayMs` up to `maxDelayMs`; the bus
   * reconnects for as long as it is open.
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
  /** Told of a lost connection, a failed catch-up, a row that is not a valid event, or a listener that threw. */
  readonly onError?: (err: unknown) => void;
}

/** A {@link FleetBus} over PostgreSQL, with the position a restarted process resumes from. */
export interface PostgresFleetBus extends FleetBus {
  /**
   * The id of the last event handed to listeners (or the starting point once `ready()` has
   * resolved); `undefined` before. Store it, and pass it as `from` to resume after a restart.
   */
  readonly position: string | undefined;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const ID = /^\d{1,19}$/;
/** The first key of the advisory lock publishers take in turn (ASCII "CSSF"); the second is the table's hash. */
const LOCK_CLASS = 0x43535346;
const BATCH = 500;
/** SQLSTATE classes a reconnect cannot heal: invalid authorization (28), unknown database (3D000). */
const PERMANENT = /^(28|3D)/;

/**
 * A fleet bus over PostgreSQL `LISTEN/NOTIFY`, with a durable events table.
 *
 * `publish` inserts the event (bigserial id, type, body jsonb, at, origin) and notifies its id in
 * one transaction: it is stored before anyone hears of it. Publishers take a transaction-level
 * advisory lock in turn, so ids commit in order. Listeners read events from the table after the
 * last id they were given, so each event reaches them once, in id order. The listening
 * connection is dedicated; when it is lost the bus reconnects with backoff, listens again and
 * reads everything published meanwhile. The table is created if missing (safe when many start
 * at once). Events carry refs, identities, lease ids and policies, never values.
 *
 * @example
 * ```ts
 * const bus = postgresBus({ connectionString: process.env.FLEET_DATABASE_URL });
 * const secrets = createSecrets({ environment: 'prod', providers, audit, fleet: bus });
 * ```
 */
export function postgresBus(options: PostgresBusOptions): PostgresFleetBus {
  if (typeof options !== 'object' || options === null) throw new ConfigError('postgresBus needs options: { pool } or { connectionString }');
  if ((options.pool === undefined) === (options.connectionString === undefined)) throw new ConfigError('postgresBus needs exactly one of pool and connectionString');
  if (options.pool !== undefined && typeof (options.pool as Partial<Pool>).connect !== 'function') throw new ConfigError('postgresBus pool must be a pg.Pool');
  if (options.connectionString !== undefined && (typeof options.connectionString !== 'string' || options.connectionString === '')) {
    throw new ConfigError('postgresBus connectionString must be a non-empty string');
  }
  const channel = options.channel ?? 'connector_secrets';
  const table = options.table ?? 'connector_secrets_events';
  if (typeof channel !== 'string' || !NAME.test(channel)) throw new ConfigError('postgresBus channel must be letters, digits and _ (at most 63, not starting with a digit)');
  if (typeof table !== 'string' || !NAME.test(table)) throw new ConfigError('postgresBus table must be letters, digits and _ (at most 63, not starting with a digit)');
  const from = options.from ?? 'now';
  if (from !== 'now' && from !== 'start' && !(typeof from === 'string' && ID.test(from) && BigInt(from) < 2n ** 63n)) {
    throw new ConfigError("postgresBus from must be 'now', 'start' or a decimal event id");
  }
  const origin = options.origin ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  if (typeof origin !== 'string' || origin === '' || origin.length > 256) throw new ConfigError('postgresBus origin must be a non-empty string of at most 256 characters');
  const policy = retryPolicy({ baseDelayMs: options.reconnect?.baseDelayMs ?? 100, maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000 });
  return new PostgresBus({ ...options, channel, table, from, origin }, policy);
}

type Resolved = PostgresBusOptions & { readonly channel: string; readonly table: string; readonly from: string; readonly origin: string };

interface EventRow {
  readonly id: string;
  readonly type: string;
  readonly body: unknown;
  readonly at: Date | string;
  readonly origin: string;
}

class PostgresBus implements PostgresFleetBus {
  readonly name = 'postgres';
  readonly origin: string;
  readonly #o: Resolved;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #policy: RetryPolicy;
  readonly #q: { readonly table: string; readonly channel: string };
  readonly #listeners = new FleetListeners((err) => this.#report(err));
  #pool: Promise<Pool> | undefined;
  #table: Promise<void> | undefined;
  #listener: PoolClient | undefined;
  #last: bigint | undefined;
  #closed = false;
  #attempt = 0;
  #timer: TimerId | undefined;
  readonly #catchUp = new CatchUp(
    () => this.#readOnce(),
    () => !this.#closed,
    (err) => this.#report(err),
  );
  readonly #ready: Promise<void>;
  #settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  constructor(options: Resolved, policy: RetryPolicy) {
    this.#o = options;
    this.origin = options.origin;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#policy = policy;
    this.#q = { table: quote(options.table), channel: quote(options.channel) };
    this.#ready = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#ready.catch(() => {});
    void this.#connect();
  }

  get position(): string | undefined {
    return this.#last === undefined ? undefined : String(this.#last);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    return this.#listeners.subscribe(listener);
  }

  async publish(input: FleetEventBody): Promise<FleetEvent> {
    if (this.#closed) throw new ConfigError('the fleet bus is closed');
    const body = checkFleetEventBody(input);
    const pool = await this.#poolOf();
    await this.#ensureTable(pool);
    const at = new Date(this.#clock.now()).toISOString();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unavailable('could not connect to publish', err);
    }
    let failed = false;
    try {
      await client.query('BEGIN');
      // Publishers take turns until commit: ids are then committed in order, so a reader that
      // has seen id N has seen every committed id below it and can resume with `id > N`.
      await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_CLASS, this.#o.table]);
      const { rows } = await client.query<{ id: string }>(`INSERT INTO ${this.#q.table} (type, body, at, origin) VALUES ($1, $2::jsonb, $3, $4) RETURNING id::text AS id`, [
        body.type,
        JSON.stringify(body),
        at,
        this.origin,
      ]);
      const id = rows[0]!.id;
      // Only the id travels (well under NOTIFY's 8000-byte limit); the event is read from the table.
      await client.query('SELECT pg_notify($1, $2)', [this.#o.channel, id]);
      await client.query('COMMIT');
      return { ...body, id, at, origin: this.origin };
    } catch (err) {
      failed = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw unavailable('could not publish the event', err);
    } finally {
      client.release(failed ? true : undefined);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settle?.reject(new ConfigError('the fleet bus was closed before it was ready'));
    this.#settle = undefined;
    const listener = this.#listener;
    this.#listener = undefined;
    // Destroyed rather than returned: a pool must never hand out a connection still listening.
    listener?.release(true);
    if (this.#o.connectionString !== undefined && this.#pool !== undefined) {
      const pool = await this.#pool.catch(() => undefined);
      await pool?.end().catch(() => undefined);
    }
  }

  #poolOf(): Promise<Pool> {
    if (this.#o.pool !== undefined) return Promise.resolve(this.#o.pool);
    this.#pool ??= loadPg().then((pg) => {
      const pool = new pg.Pool({ connectionString: this.#o.connectionString, max: 2, keepAlive: true });
      // An idle connection that dies is replaced on the next use; without a listener, pg would throw.
      pool.on('error', (err) => this.#report(err));
      return pool;
    });
    const pool = this.#pool;
    pool.catch(() => {
      if (this.#pool === pool) this.#pool = undefined;
    });
    return pool;
  }

  /** `CREATE TABLE IF NOT EXISTS` under the publishers' lock: two processes creating it at once would otherwise race on the catalog. */
  #ensureTable(pool: Pool): Promise<void> {
    const made = (this.#table ??= (async () => {
      const client = await pool.connect();
      let failed = false;
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_CLASS, this.#o.table]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#q.table} (id bigserial PRIMARY KEY, type text NOT NULL, body jsonb NOT NULL, at timestamptz NOT NULL, origin text NOT NULL)`,
        );
        await client.query('COMMIT');
      } catch (err) {
        failed = true;
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release(failed ? true : undefined);
      }
    })());
    made.catch(() => {
      if (this.#table === made) this.#table = undefined;
    });
    return made;
  }

  /** Connects the listening connection, LISTENs, fixes the start position once, then catches up. */
  async #connect(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    let client: PoolClient | undefined;
    try {
      const pool = await this.#poolOf();
      await this.#ensureTable(pool);
      client = await pool.connect();
      const mine = client;
      const lost = (err?: unknown) => this.#lost(mine, err ?? new Error('the listening connection ended'));
      mine.on('error', lost);
      mine.on('end', lost);
      mine.on('notification', (n) => {
        if (n.channel === this.#o.channel) this.#catchUp.kick();
      });
      await mine.query(`LISTEN ${this.#q.channel}`);
      if (this.#last === undefined) this.#last = await this.#start(mine);
      if (this.#closed) {
        mine.release(true);
        return;
      }
      this.#listener = mine;
      this.#attempt = 0;
      this.#settle?.resolve();
      this.#settle = undefined;
      // Everything committed while we were not listening (or before we started, for `from`).
      this.#catchUp.kick();
    } catch (err) {
      client?.release(true);
      if (this.#closed) return;
      const code = (err as { code?: unknown }).code;
      if (this.#settle !== undefined && (isConfigError(err) || (typeof code === 'string' && PERMANENT.test(code)))) {
        // Never connected, and retrying cannot help (bad login, missing database, pg missing).
        this.#settle.reject(isConfigError(err) ? err : unavailable('cannot listen', err));
        this.#settle = undefined;
        return;
      }
      this.#report(unavailable('lost the listening connection; reconnecting', err));
      this.#reconnectLater();
    }
  }

  async #start(client: PoolClient): Promise<bigint> {
    const from = this.#o.from;
    if (from === 'start') return 0n;
    if (from !== 'now') return BigInt(from);
    const { rows } = await client.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM ${this.#q.table}`);
    return BigInt(rows[0]!.id);
  }

  #lost(client: PoolClient, err: unknown): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    client.release(true);
    if (this.#closed) return;
    this.#report(unavailable('lost the listening connection; reconnecting', err));
    this.#reconnectLater();
  }

  /** Not a background timer: a process whose work is to listen must not exit while the bus is down. */
  #reconnectLater(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#attempt += 1;
    const delay = backoffDelay(this.#policy, Math.min(this.#attempt, 30), this.#random);
    this.#timer = this.#clock.setTimeout(() => void this.#connect(), delay);
  }

  /** Reads and delivers the events after the position; `true` when a full batch came back. */
  async #readOnce(): Promise<boolean> {
    const client = this.#listener;
    if (client === undefined || this.#last === undefined) return false; // the reconnect kicks again
    let rows: EventRow[];
    // ORDER BY the table's bigint id: a bare `id` names the text alias, which sorts "10" before
    // "9", and the position would then pass events not yet delivered (lost for good).
    try {
      rows = (
        await client.query<EventRow>(`SELECT id::text AS id, type, body, at, origin FROM ${this.#q.table} WHERE id > $1 ORDER BY ${this.#q.table}.id LIMIT ${BATCH}`, [String(this.#last)])
      ).rows;
    } catch (err) {
      this.#lost(client, err);
      return false;
    }
    // Rows read on a connection lost since are still committed events: delivered all the same.
    for (const row of rows) {
      if (this.#closed) return false;
      this.#deliver(row);
    }
    return rows.length === BATCH;
  }

  #deliver(row: EventRow): void {
    const id = BigInt(row.id);
    if (this.#last !== undefined && id <= this.#last) return;
    this.#last = id;
    let body: FleetEventBody;
    try {
      if (typeof row.body !== 'object' || row.body === null || (row.body as { type?: unknown }).type !== row.type) throw new ConfigError('the row type and body disagree');
      body = checkFleetEventBody(row.body);
    } catch (err) {
      // A row someone wrote by hand is skipped (and reported), not delivered and not retried.
      this.#report(new ConfigError(`fleet event ${row.id} in table ${this.#o.table} is not a valid event; skipped`, { cause: err }));
      return;
    }
    const at = row.at instanceof Date ? row.at.toISOString() : String(row.at);
    const event = { ...body, id: row.id, at, origin: String(row.origin) } as FleetEvent;
    this.#listeners.emit(event);
  }

  #report(err: unknown): void {
    try {
      this.#o.onError?.(err);
    } catch {
      // An error callback that throws has nowhere left to report to.
    }
  }
}

function quote(name: string): string {
  return `"${name}"`;
}

function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}

/** A database failure, as the bus reports it: the SQLSTATE (when there is one), never the server's text, which may quote input. */
function unavailable(what: string, err: unknown): ProviderUnavailableError {
  const code = (err as { code?: unknown }).code;
  return new ProviderUnavailableError(`fleet bus (postgres) ${what}${typeof code === 'string' ? ` (${code})` : ''}`, { provider: 'fleet:postgres', cause: err });
}

async function loadPg(): Promise<typeof import('pg')> {
  const mod = await import('pg').catch((err: unknown) => {
    throw peerLoadError('pg', 'the PostgreSQL fleet bus', err);
  });
  // pg is CommonJS: under ESM its exports arrive as `default`.
  return ((mod as unknown as { default?: typeof import('pg') }).default ?? mod) as typeof import('pg');
}
