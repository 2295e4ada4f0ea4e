import { readFile } from 'node:fs/promises';
import { fileAuditSink } from '../audit/fileAuditSink.js';
import type { SecretsOptions } from '../client.js';
import { ConfigError } from '../errors.js';
import type { FleetBus } from '../fleet/bus.js';
import { fleetBusFromUrl } from '../fleet/fromUrl.js';
import { assertEnvironmentTag } from '../providers/local-store/names.js';
import { ENV_AUDIT_KEY, ENV_AUDIT_KEY_FILE } from './audit.js';
import { UsageError } from './subcommands.js';

/** The flags every command that builds a guarded, audited client takes (`run`, `rotate`; see {@link CLIENT_FLAG_OPTIONS}). */
export interface ClientFlags {
  readonly env?: string | undefined;
  readonly identity?: string | undefined;
  readonly policy?: string | undefined;
  readonly 'audit-file'?: string | undefined;
  readonly 'audit-key-file'?: string | undefined;
  readonly fleet?: string | undefined;
}

/**
 * The parseFlags options of {@link ClientFlags}, with `--store` and `--key-file` (the local store
 * the client reads): spread into a command's own options so `run` and `rotate` take the same flags.
 */
export const CLIENT_FLAG_OPTIONS = {
  env: { type: 'string' },
  store: { type: 'string' },
  'key-file': { type: 'string' },
  identity: { type: 'string' },
  policy: { type: 'string' },
  'audit-file': { type: 'string' },
  'audit-key-file': { type: 'string' },
  fleet: { type: 'string' },
} as const;

/** The `--fleet URL` flag's help line, shared by the commands that take it. */
export const FLEET_FLAG_HELP = '  --fleet URL             a fleet bus (postgres://…?channel=&table= or redis://…?channel=&stream=, both optional): hear rotations, quarantines and policy updates of other processes, and tell them of this one\n';

/**
 * The fleet bus `--fleet` names, or undefined. The caller closes it after the client: the client
 * never closes a bus it was given.
 */
export function fleetBusOf(flags: ClientFlags, env: Record<string, string | undefined>): FleetBus | undefined {
  const url = flags.fleet ?? (env['CONNECTOR_SECRETS_FLEET'] || undefined);
  if (url === undefined) return undefined;
  return fleetBusFromUrl(url);
}

/** The environment tag from `--env` or CONNECTOR_SECRETS_ENV, checked; `prod` needs `--audit-file`. */
export function commandEnvironment(flags: ClientFlags, env: Record<string, string | undefined>, command: string): string {
  const environment = flags.env ?? (env['CONNECTOR_SECRETS_ENV'] || undefined);
  if (environment === undefined) throw new UsageError(`${command} needs --env <tag>`);
  assertEnvironmentTag(environment, '--env');
  if (environment === 'prod' && flags['audit-file'] === undefined) {
    throw new UsageError(`--env prod needs an audit log: pass --audit-file FILE (and --audit-key-file K or ${ENV_AUDIT_KEY_FILE})`);
  }
  return environment;
}

/** The identity, policy and audit options of `createSecrets` that the flags ask for. */
export async function guardedClientOptions(flags: ClientFlags, env: Record<string, string | undefined>): Promise<Pick<SecretsOptions, 'identity' | 'policy' | 'audit'>> {
  const auditFile = flags['audit-file'];
  return {
    ...(flags.identity === undefined ? {} : { identity: flags.identity }),
    ...(flags.policy === undefined ? {} : { policy: { path: flags.policy } }),
    ...(auditFile === undefined ? {} : { audit: fileAuditSink(auditFile, { hmacKey: await auditKey(flags['audit-key-file'], env) }) }),
  };
}

/** The audit HMAC key: `--audit-key-file`, else CONNECTOR_SECRETS_AUDIT_KEY_FILE, else the inline variable. */
export async function auditKey(file: string | undefined, env: Record<string, string | undefined>): Promise<string> {
  const path = file ?? (env[ENV_AUDIT_KEY_FILE] || undefined);
  if (path !== undefined) {
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`the audit key file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const inline = env[ENV_AUDIT_KEY];
  if (inline !== undefined && inline !== '') return inline;
  throw new UsageError(`--audit-file needs a key: pass --audit-key-file K, or set ${ENV_AUDIT_KEY_FILE} or ${ENV_AUDIT_KEY}`);
}
