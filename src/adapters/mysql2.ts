import type { Pool, PoolConnection } from 'mysql2';
import type { Pool as PromisePool } from 'mysql2/promise';
import type { SecretsClient } from '../client.js';
import type { CredentialHandle } from '../handles/CredentialHandle.js';
import { handleOf, loginOf, type HandleOrRef, type Login } from './credential.js';

/**
 * What {@link mysqlConfig} returns.
 *
 * @example
 * ```ts
 * const db = await mysqlConfig('vault://database/creds/etl-reader', secrets);
 * const pool = mysql.createPool({ host: 'db.internal', database: 'orders', ...db.config });
 * db.attach(pool);
 * ```
 */
export interface MysqlAdapter {
  /** Spread into `mysql.createPool({...})`: the current `user` and `password`. */
  readonly config: {
    /** The current credential's `username` (or `user`). */
    readonly user: string;
    /** The current credential's password. */
    readonly password: string;
  };
  /**
   * Makes every new connection of the pool log in with the credential current at that moment
   * (mysql2 copies the pool's connection options per connection, getters included, and reads
   * `user` and `password` at the handshake), and destroys connections made with a rotated
   * credential: idle ones at once, busy ones when released. Returns a function that stops the eviction.
   */
  attach(pool: Pool | PromisePool): () => void;
  /** The credential handle (for `withCredential`). */
  readonly handle: CredentialHandle<unknown>;
  /** Closes the handle when `mysqlConfig` made it from a ref. */
  close(): Promise<void>;
}

interface CorePool {
  readonly config: { readonly connectionConfig: object };
  on(event: string, listener: (connection: PoolConnection) => void): unknown;
  off(event: string, listener: (connection: PoolConnection) => void): unknown;
}

/**
 * Hands a database credential (JSON with `username`/`user` and `password`) to a `mysql2` pool,
 * kept current across rotations.
 *
 * @param source - A credential handle, or a ref to make one from.
 * @param secrets - The client that makes the handle.
 *
 * @example
 * ```ts
 * const db = await mysqlConfig('vault://database/creds/etl-reader', secrets);
 * const pool = mysql.createPool({ host: 'db.internal', database: 'orders', ...db.config }).promise();
 * db.attach(pool);
 * const [rows] = await db.handle.withCredential(() => pool.query('select 1'));
 * ```
 */
export async function mysqlConfig(source: HandleOrRef, secrets: Pick<SecretsClient, 'handle'>): Promise<MysqlAdapter> {
  const { handle, owned } = handleOf(source, secrets);
  let login: Login = loginOf(await handle.get(), handle.ref);
  let generation = 0;
  const stopRotate = handle.onRotate((next) => {
    login = loginOf(next, handle.ref);
    generation += 1;
  });
  return {
    handle,
    config: {
      get user() {
        return login.user;
      },
      get password() {
        return login.password;
      },
    },
    attach(given) {
      const pool = ('pool' in given ? given.pool : given) as unknown as CorePool;
      // Non-enumerable, so the password does not show when the options are logged or inspected.
      Object.defineProperty(pool.config.connectionConfig, 'user', { get: () => login.user, enumerable: false, configurable: true });
      Object.defineProperty(pool.config.connectionConfig, 'password', { get: () => login.password, enumerable: false, configurable: true });
      const made = new Map<PoolConnection, number>();
      const idle = new Set<PoolConnection>();
      const stale = (c: PoolConnection) => (made.get(c) ?? generation) < generation;
      const onConnection = (c: PoolConnection) => void made.set(c, generation);
      const onAcquire = (c: PoolConnection) => void idle.delete(c);
      const onRelease = (c: PoolConnection) => {
        if (!stale(c)) {
          idle.add(c);
          return;
        }
        made.delete(c);
        // destroy() takes it out of the pool (PoolConnection#destroy) and closes the socket.
        c.destroy();
      };
      pool.on('connection', onConnection);
      pool.on('acquire', onAcquire);
      pool.on('release', onRelease);
      const stop = handle.onRotate(() => {
        for (const c of [...idle]) {
          if (!stale(c)) continue;
          idle.delete(c);
          made.delete(c);
          c.destroy();
        }
      });
      return () => {
        stop();
        pool.off('connection', onConnection);
        pool.off('acquire', onAcquire);
        pool.off('release', onRelease);
      };
    },
    async close() {
      stopRotate();
      if (owned) await handle.close();
    },
  };
}
