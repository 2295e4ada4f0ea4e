import type { Pool } from 'pg';
import { ConfigError } from '../errors.js';
import { peerLoadError } from '../peer.js';

/**
 * A small `pg` pool on `url` for a command (`audit --postgres`, `incident --postgres`), loading
 * the optional peer only when asked. The command ends it.
 */
export async function openPgPool(url: string, feature: string): Promise<Pool> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('--postgres must be a postgres:// URL (postgres://user@host:5432/db)');
  const mod = await import('pg').catch((err: unknown) => {
    throw peerLoadError('pg', feature, err);
  });
  // pg is CommonJS: under ESM its exports arrive as `default`.
  const pg = ((mod as unknown as { default?: typeof import('pg') }).default ?? mod) as typeof import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // An idle client's error (the server went away) must not crash the command; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}

/** The URL as it may be printed: host, port and database, never a user or password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
