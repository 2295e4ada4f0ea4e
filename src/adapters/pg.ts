import type { Pool, PoolClient } from 'pg';
import type { SecretsClient } from '../client.js';
import type { CredentialHandle } from '../handles/CredentialHandle.js';
import { handleOf, loginOf, type HandleOrRef, type Login } from './credential.js';

/**
 * What {@link pgConfig} returns: the pool options to spread, and the rotation wiring.
 *
 * @example
 * ```ts
 * const db = await pgConfig('vault://database/creds/etl-reader', secrets);
 * const pool = new pg.Pool({ host: 'db.internal', database: 'orders', ...db.config });
 * db.attach(pool);
 * ```
 */
export interface PgAdapter {
  /**
   * Spread into `new pg.Pool({...})` or `new pg.Client({...})`: `user` from the credential and
   * `password` as the async function `pg` calls for every new connection.
   */
  readonly config: {
    /** The credential's `username` (or `user`); `attach` keeps the pool's copy current. */
    readonly user: string;
    /** Called by `pg` for each new connection, with its connection parameters. */
    readonly password: (params?: { user?: string }) => Promise<string>;
  };
  /**
   * Keeps a pool in step with rotations: new connections log in as the new user, idle
   * connections made with a rotated credential are closed at once, busy ones when released.
   * Returns a function that stops it.
   */
  attach(pool: Pool): () => void;
  /** The credential handle (for `withCredential`, which refreshes once and retries on an authentication failure). */
  readonly handle: CredentialHandle<unknown>;
  /** Closes the handle when `pgConfig` made it from a ref. */
  close(): Promise<void>;
}

/** The parts of pg-pool this adapter uses; `_remove` is pg-pool's own eviction of an idle client. */
interface PoolInternals {
  readonly options: { user?: string };
  _remove?(client: PoolClient): void;
}

/**
 * Hands a database credential (JSON with `username`/`user` and `password`, e.g. Vault database
 * credentials) to `pg`. The password is an async function, so each new connection gets the
 * current credential; the user is taken from the same credential.
 *
 * @param source - A credential handle, or a ref to make one from.
 * @param secrets - The client that makes the handle.
 *
 * @example
 * ```ts
 * const db = await pgConfig('vault://database/creds/etl-reader', secrets);
 * const pool = new pg.Pool({ host: 'db.internal', database: 'orders', ...db.config });
 * db.attach(pool);
 * await db.handle.withCredential(() => pool.query('select 1'));
 * ```
 */
export async function pgConfig(source: HandleOrRef, secrets: Pick<SecretsClient, 'handle'>): Promise<PgAdapter> {
  const { handle, owned } = handleOf(source, secrets);
  let login: Login = loginOf(await handle.get(), handle.ref);
  let previous: Login | undefined;
  let generation = 0;
  /** Which credential generation each connection's parameters got their password from. */
  const issued = new WeakMap<object, number>();
  const stopRotate = handle.onRotate((next) => {
    previous = login;
    login = loginOf(next, handle.ref);
    generation += 1;
  });

  const password = async (params?: { user?: string }): Promise<string> => {
    const current = loginOf(await handle.get(), handle.ref);
    if (params !== undefined && typeof params === 'object') issued.set(params, generation);
    // A connection built before a rotation logs in as the old user: give it that user's password
    // while the old credential is still held, rather than a pair that cannot match.
    if (params?.user !== undefined && params.user !== current.user && previous?.user === params.user) return previous.password;
    return current.password;
  };

  return {
    handle,
    config: {
      get user() {
        return login.user;
      },
      password,
    },
    attach(pool) {
      const internals = pool as unknown as PoolInternals;
      const made = new Map<PoolClient, number>();
      const idle = new Set<PoolClient>();
      const stale = (client: PoolClient) => (made.get(client) ?? generation) < generation;
      const onConnect = (client: PoolClient) => {
        const params = (client as unknown as { connectionParameters?: object }).connectionParameters;
        made.set(client, (params === undefined ? undefined : issued.get(params)) ?? generation);
      };
      const onAcquire = (client: PoolClient) => idle.delete(client);
      const onRelease = (_err: Error | undefined, client: PoolClient) => {
        // Ending it now makes pg-pool drop it instead of putting it back as idle.
        if (stale(client)) void client.end().catch(() => undefined);
        else idle.add(client);
      };
      const onRemove = (client: PoolClient) => {
        idle.delete(client);
        made.delete(client);
      };
      pool.on('connect', onConnect);
      pool.on('acquire', onAcquire);
      pool.on('release', onRelease);
      pool.on('remove', onRemove);
      const stop = handle.onRotate(() => {
        internals.options.user = login.user;
        for (const client of [...idle]) {
          if (!stale(client)) continue;
          idle.delete(client);
          if (typeof internals._remove === 'function') internals._remove(client);
        }
      });
      return () => {
        stop();
        pool.off('connect', onConnect);
        pool.off('acquire', onAcquire);
        pool.off('release', onRelease);
        pool.off('remove', onRemove);
      };
    },
    async close() {
      stopRotate();
      if (owned) await handle.close();
    },
  };
}
