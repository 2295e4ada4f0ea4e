import type { ClientConfig } from 'pg';
import type { SecretsClient } from '../client.js';
import { ConfigError } from '../errors.js';
import { loginOf, type Login } from '../adapters/credential.js';
import { peerLoadError } from '../peer.js';
import type { SecretRef } from '../ref/types.js';
import type { Secret } from '../secret.js';
import type { GenerateSpec, RandomBytes } from './generate.js';
import { generateSecretValue } from './generate.js';
import type { RotationResult } from './types.js';

/** A connection that may run `ALTER ROLE` (a `pg.Pool` or a connected `pg.Client`). */
export interface PostgresAdmin {
  /** Runs one SQL statement. */
  query(sql: string): Promise<unknown>;
}

/**
 * Options of {@link rotatePostgresPassword}.
 *
 * @example
 * ```ts
 * const options: PostgresPasswordRotation = {
 *   strategy: 'alternating', roles: ['orders_a', 'orders_b'], admin: adminPool,
 *   connection: { host: 'db.internal', port: 5432, database: 'orders' }, overlapMs: 15 * 60_000,
 * };
 * ```
 */
export interface PostgresPasswordRotation {
  /**
   * `'single'`: the credential's own role gets a new password (`ALTER ROLE … PASSWORD`); its
   * open sessions keep running, new logins need the new password at once.
   * `'alternating'`: the credential flips to the other of `roles` with a fresh password; the
   * role it leaves keeps its password until `overlapMs` has passed, then its password is removed.
   */
  readonly strategy: 'single' | 'alternating';
  /** The two roles that take turns (`'alternating'` only); the credential holds one of them. */
  readonly roles?: readonly [string, string];
  /** Where `ALTER ROLE` runs: a role with `CREATEROLE` (or a superuser). */
  readonly admin: PostgresAdmin;
  /** How to reach the database to check the new login (host, port, database, ssl); user and password come from the credential. */
  readonly connection: Omit<ClientConfig, 'user' | 'password'>;
  /**
   * The new password.
   * @default { length: 32 } (letters and digits)
   */
  readonly generate?: GenerateSpec;
  /**
   * How long the role left behind keeps working (`'alternating'`), in milliseconds.
   * @default 0
   */
  readonly overlapMs?: number;
  /**
   * Random bytes for the password.
   * @default crypto.randomBytes
   */
  readonly random?: RandomBytes;
}

/**
 * Rotates a PostgreSQL login held as JSON (`{ "username", "password" }`) at `ref`, through
 * `secrets.rotate`: the new login is written to the store, set on the server and checked by
 * logging in with it; when the login fails, the server and the store are put back. Pools wired
 * with `pgConfig(...).attach(pool)` switch when the client announces the rotation: idle
 * connections made with the old login close, busy ones close when released, so no query fails.
 *
 * With `'single'`, PostgreSQL knows one password per role: a connection opened between
 * `ALTER ROLE` and the announcement (a few milliseconds) is refused and must be retried (a
 * pool that keeps its connections open opens none then). `'alternating'` has no such window.
 *
 * @example
 * ```ts
 * await rotatePostgresPassword(secrets, 'local://orders-db', { strategy: 'single', admin, connection: { host, port, database } });
 * ```
 */
export async function rotatePostgresPassword(
  secrets: Pick<SecretsClient, 'get' | 'rotate'>,
  ref: string | SecretRef,
  options: PostgresPasswordRotation,
): Promise<RotationResult> {
  const { strategy, admin } = options;
  if (strategy !== 'single' && strategy !== 'alternating') throw new ConfigError("strategy must be 'single' or 'alternating'");
  if (strategy === 'alternating' && (options.roles?.length !== 2 || options.roles[0] === options.roles[1])) {
    throw new ConfigError("the 'alternating' strategy needs roles: two different role names");
  }
  const current = await secrets.get(ref);
  const name = current.ref ?? String(ref);
  const from = loginOf(current, name);
  let user = from.user;
  if (strategy === 'alternating') {
    const [a, b] = options.roles!;
    if (from.user !== a && from.user !== b) throw new ConfigError('the credential holds neither of the two roles', { ref: name });
    user = from.user === a ? b : a;
  }
  const password = generateSecretValue(options.generate ?? { length: 32 }, options.random);
  const { Client, escapeIdentifier, escapeLiteral } = await loadPg();
  const setPassword = (login: Login | { user: string; password: null }) =>
    admin.query(`ALTER ROLE ${escapeIdentifier(login.user)} PASSWORD ${login.password === null ? 'NULL' : escapeLiteral(login.password)}`);

  return secrets.rotate(
    ref,
    { value: JSON.stringify({ username: user, password }) },
    {
      verify: async (next: Secret<string>, previous: Secret<string>) => {
        const to = loginOf(next, name);
        const back = loginOf(previous, name);
        await setPassword(to);
        try {
          const client = new Client({ ...options.connection, user: to.user, password: to.password });
          await client.connect();
          try {
            await client.query('select 1');
          } finally {
            await client.end().catch(() => undefined);
          }
        } catch (err) {
          // Put the server back as the store will be: the previous login works again.
          if (to.user === back.user) await setPassword(back);
          throw err;
        }
      },
      ...(strategy === 'alternating'
        ? {
            overlapMs: options.overlapMs ?? 0,
            retire: async (previous: Secret<string>) => {
              const left = loginOf(previous, name);
              // Only if the rotation did not come back to it meanwhile.
              const now = loginOf(await secrets.get(ref), name);
              if (now.user !== left.user) await setPassword({ user: left.user, password: null });
            },
          }
        : {}),
    },
  );
}

async function loadPg(): Promise<typeof import('pg')> {
  const mod = await import('pg').catch((err: unknown) => {
    throw peerLoadError('pg', 'PostgreSQL password rotation', err);
  });
  // pg is CommonJS: under ESM its exports arrive as `default`.
  return ((mod as unknown as { default?: typeof import('pg') }).default ?? mod) as typeof import('pg');
}
