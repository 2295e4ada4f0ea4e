import { access } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';
import { fromLocalStore, type LocalStore } from '../providers/fromLocalStore.js';
import { codeOf } from '../providers/local-store/file.js';
import { ENV_KEY, ENV_KEY_FILE, ENV_PASSPHRASE } from '../providers/local-store/keys.js';
import { UsageError } from './subcommands.js';

/** The local-store flags shared by `local` and `run`. */
export interface StoreFlags {
  readonly env?: string | undefined;
  readonly path?: string | undefined;
  readonly 'key-file'?: string | undefined;
}

/** Where the store file of these flags is (`--path`, `$CONNECTOR_SECRETS_STORE`, else `.secrets/<env>.enc.json`). */
export function storePathOf(flags: StoreFlags, env: Readonly<Record<string, string | undefined>>): string {
  if (flags.path === undefined && !env['CONNECTOR_SECRETS_STORE'] && flags.env === undefined && !env['CONNECTOR_SECRETS_ENV']) {
    // Said here in flags: the library's own message names its options.
    throw new UsageError('which store? pass --env <tag> (store .secrets/<tag>.enc.json) or --path FILE, or set CONNECTOR_SECRETS_ENV or CONNECTOR_SECRETS_STORE');
  }
  return fromLocalStore({ env, ...(flags.env === undefined ? {} : { environment: flags.env }), ...(flags.path === undefined ? {} : { path: flags.path }) }).resolvePath();
}

/** The key file `local init` writes when no key is configured: beside the store, named after the environment. */
export function defaultKeyFileOf(storePath: string, environment: string): string {
  return join(dirname(storePath), `${environment}.key`);
}

/**
 * Opens the local store the way the CLI's flags describe it. With no key configured (no
 * `--key-file`, no `CONNECTOR_SECRETS_KEY*`/`PASSPHRASE` variable), the key file that
 * `local init` generated beside the store is used, so `init` followed by `set` needs no flags.
 * A missing key is reported in terms of flags and variables, not library options.
 */
export async function openLocalStore(flags: StoreFlags, env: Readonly<Record<string, string | undefined>>): Promise<LocalStore> {
  const storePath = storePathOf(flags, env);
  let keyFile = flags['key-file'] === undefined ? undefined : resolvePath(flags['key-file']);
  const configured = Boolean(env[ENV_KEY] || env[ENV_KEY_FILE] || env[ENV_PASSPHRASE]);
  if (keyFile === undefined && !configured) {
    const environment = flags.env ?? (env['CONNECTOR_SECRETS_ENV'] || undefined);
    const candidate = environment === undefined ? undefined : defaultKeyFileOf(storePath, environment);
    if (candidate === undefined || !(await exists(candidate))) {
      throw new ConfigError(
        `no key for store file ${storePath}: pass --key-file K` +
          (candidate === undefined ? '' : ` (local init writes ${candidate} by default)`) +
          `, or set ${ENV_KEY_FILE}, ${ENV_KEY} or ${ENV_PASSPHRASE}`,
      );
    }
    keyFile = candidate;
  }
  return fromLocalStore({
    env,
    path: storePath,
    ...(flags.env === undefined ? {} : { environment: flags.env }),
    ...(keyFile === undefined ? {} : { keyFile }),
  });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return false;
    throw err;
  }
}
