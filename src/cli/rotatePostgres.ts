// `connector-secrets rotate --postgres single|alternating`: the database login at the ref is
// rotated with rotatePostgresPassword (ALTER ROLE, then a login with the new password before
// the store keeps it). The admin connection URL comes from an environment variable, never argv.
import type { SecretsClient } from '../client.js';
import { ConfigError } from '../errors.js';
import { peerLoadError } from '../peer.js';
import { rotatePostgresPassword } from '../rotation/postgres.js';
import type { RotationResult } from '../rotation/types.js';
import { parseDuration } from '../duration.js';
import { UsageError } from './subcommands.js';

/** The variable that holds the admin URL unless `--postgres-admin-env` names another. */
export const ENV_PG_ADMIN_URL = 'CONNECTOR_SECRETS_PG_ADMIN_URL';

/** The `--postgres` flags of `rotate`. */
export interface PostgresRotateFlags {
  readonly postgres?: string | undefined;
  readonly roles?: string | undefined;
  readonly 'postgres-admin-env'?: string | undefined;
  readonly overlap?: string | undefined;
}

/** A checked `--postgres` rotation, ready to run once the client exists. */
export interface PostgresRotatePlan {
  run(secrets: SecretsClient, ref: string, generate: { length: number; alphabet?: string } | undefined): Promise<RotationResult>;
}

/** Checks the flags; undefined without `--postgres`. Throws UsageError naming the flag to fix. */
export function postgresRotatePlan(flags: PostgresRotateFlags, env: Record<string, string | undefined>): PostgresRotatePlan | undefined {
  if (flags.postgres === undefined) {
    for (const f of ['roles', 'postgres-admin-env', 'overlap'] as const) if (flags[f] !== undefined) throw new UsageError(`--${f} goes with --postgres single|alternating`);
    return undefined;
  }
  const strategy = flags.postgres;
  if (strategy !== 'single' && strategy !== 'alternating') throw new UsageError('--postgres must be single or alternating');
  let roles: [string, string] | undefined;
  if (strategy === 'alternating') {
    const parts = (flags.roles ?? '').split(',');
    if (parts.length !== 2 || parts.some((r) => r === '') || parts[0] === parts[1]) throw new UsageError('--postgres alternating needs --roles A,B (two different role names)');
    roles = [parts[0]!, parts[1]!];
  } else if (flags.roles !== undefined) throw new UsageError('--roles goes with --postgres alternating');
  let overlapMs = 0;
  if (flags.overlap !== undefined) {
    if (strategy !== 'alternating') throw new UsageError('--overlap goes with --postgres alternating');
    try {
      overlapMs = parseDuration(flags.overlap, '--overlap');
    } catch {
      throw new UsageError('--overlap must be a duration such as 30s or 15m');
    }
  }
  const variable = flags['postgres-admin-env'] ?? ENV_PG_ADMIN_URL;
  const adminUrl = env[variable];
  if (adminUrl === undefined || adminUrl === '') throw new UsageError(`--postgres needs the admin connection URL in $${variable} (a role that may ALTER ROLE)`);
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    throw new UsageError(`$${variable} is not a postgres:// URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new UsageError(`$${variable} is not a postgres:// URL`);
  // The new login is checked against the same server and database as the admin's.
  const ssl = url.searchParams.get('sslmode');
  const connection = {
    host: decodeURIComponent(url.hostname) || 'localhost',
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    ...(ssl === 'require' || ssl === 'verify-full' ? { ssl: true } : {}),
  };
  return {
    async run(secrets, ref, generate) {
      const pg = await import('pg').then(
        (m) => ((m as unknown as { default?: typeof import('pg') }).default ?? m) as typeof import('pg'),
        (err: unknown) => {
          throw peerLoadError('pg', 'rotate --postgres', err);
        },
      );
      const admin = new pg.Client({ connectionString: adminUrl });
      admin.on('error', () => {});
      try {
        await admin.connect();
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new ConfigError(`could not connect with $${variable}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
      }
      try {
        const result = await rotatePostgresPassword(secrets, ref, { strategy, ...(roles === undefined ? {} : { roles }), admin, connection, overlapMs, ...(generate === undefined ? {} : { generate }) });
        // The role left behind loses its password when the overlap ends: this command waits for it.
        if (result.retired !== undefined && !(await result.retired)) throw new ConfigError('the rotation was made, but removing the password of the role left behind failed (see the audit log)', { ref });
        return result;
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
  };
}
