import { ConfigError } from '../errors.js';
import type { FleetBus } from './bus.js';
import { postgresBus, type PostgresBusOptions } from './postgresBus.js';
import { redisBus } from './redisBus.js';

/** What {@link fleetBusFromUrl} passes on to the bus besides the URL: the options both buses share. */
export type FleetBusUrlOptions = Pick<PostgresBusOptions, 'from' | 'clock' | 'origin' | 'reconnect' | 'random' | 'onError'>;

/**
 * A fleet bus from a URL, as the CLI's `--fleet` takes it: `postgres://` or `postgresql://`
 * make a {@link postgresBus}; `redis://` or `rediss://` a {@link redisBus}. The URL's `channel`
 * and `table` (PostgreSQL) or `channel` and `stream` (Redis) query parameters, taken out before
 * the rest goes to the client, name the channel and the durable log. Error messages never
 * repeat the URL, which may hold a password.
 *
 * @throws ConfigError (code `CONFIG_INVALID`) for a string that is not a URL, or a scheme no bus serves.
 * @example
 * ```ts
 * const bus = fleetBusFromUrl('postgres://fleet@db.internal:5432/ops?channel=orders_fleet');
 * ```
 */
export function fleetBusFromUrl(url: string, options: FleetBusUrlOptions = {}): FleetBus {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('the fleet bus URL is not a URL: use postgres://user@host:5432/database or redis://host:6379');
  }
  const scheme = /^[a-z][a-z0-9+.-]{0,20}:$/.test(parsed.protocol) ? parsed.protocol.slice(0, -1) : '(unreadable)';
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:':
      return postgresBus({ ...options, ...takeParams(parsed, ['channel', 'table']), connectionString: parsed.toString() });
    case 'redis:':
    case 'rediss:':
      return redisBus({ ...options, ...takeParams(parsed, ['channel', 'stream']), url: parsed.toString() });
    default:
      throw new ConfigError(`no fleet bus for the URL scheme "${scheme}": use postgres://, postgresql://, redis:// or rediss://`);
  }
}

/** The named query parameters that are present, taken out of `url` (the rest goes to the client). */
function takeParams<K extends string>(url: URL, names: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = url.searchParams.get(name);
    if (value !== null) out[name] = value;
    url.searchParams.delete(name);
  }
  return out;
}
