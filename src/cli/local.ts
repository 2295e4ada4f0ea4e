import { rm } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';
import type { SecretMetadata } from '../provider.js';
import { fromLocalStore, type LocalStoreEntryInfo } from '../providers/fromLocalStore.js';
import { ENV_KEY, ENV_KEY_FILE, ENV_PASSPHRASE, generateKeyFile } from '../providers/local-store/keys.js';
import { assertEnvironmentTag } from '../providers/local-store/names.js';
import { defaultKeyFileOf, exists, openLocalStore } from './store.js';
import { EXIT_CODES_HELP, parseFlags, runSubcommands, UsageError } from './subcommands.js';

/**
 * What `connector-secrets local` reads and writes. Tests pass their own; the command passes
 * the process's.
 *
 * @example
 * ```ts
 * const io: LocalCommandIo = {
 *   stdin: process.stdin,
 *   stdout: (s) => void process.stdout.write(s),
 *   stderr: (s) => void process.stderr.write(s),
 *   env: process.env,
 * };
 * ```
 */
export interface LocalCommandIo {
  /** Where `set` reads the value from. */
  readonly stdin: NodeJS.ReadableStream;
  /** Writes to standard output (the text carries its own newlines). */
  readonly stdout: (s: string) => void;
  /** Writes to standard error (the text carries its own newlines). */
  readonly stderr: (s: string) => void;
  /** Environment variables (`CONNECTOR_SECRETS_*`). */
  readonly env: Record<string, string | undefined>;
}

const USAGE = `usage: connector-secrets local <command> [options]

commands:
  init --env <tag> [--key-file K]
      Create an empty encrypted store for an environment. When no key is configured
      (${ENV_KEY}, ${ENV_KEY_FILE}, ${ENV_PASSPHRASE} or --key-file K
      naming an existing file), a fresh key is written to a new private key file
      (--key-file K, default .secrets/<tag>.key beside the store) and only its path is printed.
      --json: {"store": path, "environment": tag, "keyFile": path|null, "generated": boolean}
  set <name> [--owner O] [--purpose P] [--sensitivity low|medium|high|critical]
             [--rotation 30d] [--binary]
      Store the value read from stdin as a new version of <name> (one trailing newline
      is stripped unless --binary). Values are never taken from arguments.
      --json: {"name": name, "version": number, "store": path}
  list
      List entries with their versions and metadata. Values are never shown.
      --json: [{"name", "currentVersion", "versions": [{"version", "createdAt"}],
               "metadata", "createdAt", "updatedAt"}]
  rotate-key --new-key-file K
      Re-encrypt every entry under the key in K (a fresh key is generated when K does
      not exist).
      --json: {"store": path, "keyFile": path, "generated": boolean}

options of every command:
  --env <tag>        environment tag (default ${'$'}CONNECTOR_SECRETS_ENV)
  --path <file>      store file (default ${'$'}CONNECTOR_SECRETS_STORE, else .secrets/<tag>.enc.json);
                     --store <file> is the same
  --key-file <file>  key file (default ${'$'}${ENV_KEY_FILE}, else the .secrets/<tag>.key
                     that init wrote beside the store)
  --json             print the result as JSON (shapes above)
  -h, --help         show this help

${EXIT_CODES_HELP}`;

const COMMON = {
  env: { type: 'string' },
  path: { type: 'string' },
  store: { type: 'string' },
  'key-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MAX_STDIN_BYTES = 1024 * 1024 + 2;


/**
 * Runs `connector-secrets local <argv…>` and returns the exit code: 0 on success, 2 on a usage
 * or configuration error, 1 on any other error, printed to stderr as `error [CODE]: message`. No value is ever printed or
 * taken from `argv`.
 *
 * @param argv - The arguments after `local`, e.g. `['set', 'orders-db/password', '--owner', 'data-platform']`.
 * @param io - Standard streams and environment variables.
 *
 * @example
 * ```ts
 * const code = await runLocalCommand(['list', '--json'], {
 *   stdin: process.stdin,
 *   stdout: (s) => void process.stdout.write(s),
 *   stderr: (s) => void process.stderr.write(s),
 *   env: process.env,
 * });
 * process.exitCode = code;
 * ```
 */
export async function runLocalCommand(argv: string[], io: LocalCommandIo): Promise<number> {
  return runSubcommands('local', argv, { init: initCommand, set: setCommand, list: listCommand, 'rotate-key': rotateKeyCommand }, USAGE, io);
}

async function initCommand(args: string[], io: LocalCommandIo): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io);
  noPositionals(positionals, 'init');
  const environment = values.env ?? (io.env['CONNECTOR_SECRETS_ENV'] || undefined);
  if (environment === undefined) throw new UsageError('init needs --env <tag>');
  assertEnvironmentTag(environment, '--env');

  const path = storeFlag(values);
  const probe = fromLocalStore({ environment, env: io.env, ...(path === undefined ? {} : { path }) });
  const storePath = probe.resolvePath();
  if (await exists(storePath)) throw new ConfigError(`store file ${storePath} already exists`);

  // A key file named on the command line that does not exist yet is generated; so is the
  // default key file when no other key is configured.
  let keyFile = values['key-file'] === undefined ? undefined : resolvePath(values['key-file']);
  const configured = Boolean(io.env[ENV_KEY] || io.env[ENV_KEY_FILE] || io.env[ENV_PASSPHRASE]);
  let generated = false;
  if (keyFile !== undefined) {
    generated = !(await exists(keyFile)) && (await generateKeyFile(keyFile));
  } else if (!configured) {
    keyFile = defaultKeyFileOf(storePath, environment);
    generated = await generateKeyFile(keyFile);
    if (!generated) throw new ConfigError(`key file ${keyFile} already exists; pass it with --key-file K or set ${ENV_KEY_FILE}`);
  }

  const store = fromLocalStore({ environment, env: io.env, path: storePath, ...(keyFile === undefined ? {} : { keyFile }) });
  try {
    await store.init({ environment });
  } catch (err) {
    if (generated && keyFile !== undefined) await removeQuietly(keyFile);
    throw err;
  }
  if (values.json === true) {
    io.stdout(JSON.stringify({ store: storePath, environment, keyFile: keyFile ?? null, generated }) + '\n');
    return 0;
  }
  io.stdout(`created store ${storePath} for environment "${environment}"\n`);
  if (generated && keyFile !== undefined) {
    io.stdout(`generated key file ${keyFile} (mode 0600); keep it out of version control\n`);
    io.stdout(`later local commands with --env ${environment} find it there; elsewhere pass --key-file ${keyFile}\n`);
  }
  return 0;
}

async function setCommand(args: string[], io: LocalCommandIo): Promise<number> {
  const { values, positionals } = parse(args, {
    owner: { type: 'string' },
    purpose: { type: 'string' },
    sensitivity: { type: 'string' },
    rotation: { type: 'string' },
    binary: { type: 'boolean' },
  });
  if (values.help) return help(io);
  if (positionals.length === 0) throw new UsageError('set needs an entry name: set <name>; the value is read from stdin');
  if (positionals.length > 1) {
    // Never echo the extra arguments: one of them may be a value typed by mistake.
    throw new UsageError('set takes exactly one argument, the entry name; the value is read from stdin, never from arguments (they show in process lists and shell history)');
  }
  const name = positionals[0]!;
  const metadata: Record<string, string> = {};
  for (const label of ['owner', 'purpose', 'sensitivity', 'rotation'] as const) {
    const value = values[label];
    if (typeof value === 'string') metadata[label] = value;
  }

  const raw = await readAll(io.stdin);
  let value: string | Uint8Array;
  try {
    if (values.binary === true) value = new Uint8Array(raw);
    else {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        throw new ConfigError('the value on stdin is not UTF-8 text; pass --binary to store bytes');
      }
      value = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
    }
  } finally {
    raw.fill(0);
  }
  if (value.length === 0) throw new ConfigError('no value on stdin');

  const store = await openStore(values, io);
  const info = await store.set(name, value, metadata as SecretMetadata);
  if (value instanceof Uint8Array) value.fill(0);
  if (values.json === true) {
    io.stdout(JSON.stringify({ name: info.name, version: info.currentVersion, store: store.resolvePath() }) + '\n');
    return 0;
  }
  io.stdout(`stored ${info.name} version ${info.currentVersion} in ${store.resolvePath()}\n`);
  return 0;
}

async function listCommand(args: string[], io: LocalCommandIo): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io);
  noPositionals(positionals, 'list');
  const store = await openStore(values, io);
  const entries = await store.list();
  if (values.json === true) {
    io.stdout(JSON.stringify(entries.map(toJson), null, 2) + '\n');
    return 0;
  }
  if (entries.length === 0) {
    io.stdout(`no entries in ${store.resolvePath()}\n`);
    return 0;
  }
  for (const entry of entries) {
    const labels = Object.entries(entry.metadata)
      .filter(([key, value]) => key !== 'environment' && value !== undefined)
      .map(([key, value]) => `${key}=${value}`);
    const versions = entry.versions.map((v) => v.version).join(',');
    io.stdout(
      `${entry.name}  version ${entry.currentVersion} (versions ${versions})  env=${entry.metadata.environment ?? ''}` +
        (labels.length > 0 ? `  ${labels.join('  ')}` : '') +
        `  updated ${entry.updatedAt.toISOString()}\n`,
    );
  }
  return 0;
}

async function rotateKeyCommand(args: string[], io: LocalCommandIo): Promise<number> {
  const { values, positionals } = parse(args, { 'new-key-file': { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals, 'rotate-key');
  const given = values['new-key-file'];
  if (given === undefined) throw new UsageError('rotate-key needs --new-key-file <file>');
  const newKeyFile = resolvePath(given);
  const store = await openStore(values, io);
  const generated = !(await exists(newKeyFile)) && (await generateKeyFile(newKeyFile));
  try {
    await store.rotateKey({ keyFile: newKeyFile });
  } catch (err) {
    if (generated) await removeQuietly(newKeyFile);
    throw err;
  }
  if (values.json === true) {
    io.stdout(JSON.stringify({ store: store.resolvePath(), keyFile: newKeyFile, generated }) + '\n');
    return 0;
  }
  io.stdout(`re-encrypted ${store.resolvePath()} under key file ${newKeyFile}${generated ? ' (generated, mode 0600)' : ''}\n`);
  io.stdout(`use it from now on: --key-file ${newKeyFile} (or export ${ENV_KEY_FILE}=${newKeyFile})\n`);
  return 0;
}

type Values = { env?: string | undefined; path?: string | undefined; store?: string | undefined; 'key-file'?: string | undefined };

/** `--path` or its synonym `--store`. */
function storeFlag(values: Values): string | undefined {
  if (values.path !== undefined && values.store !== undefined) throw new UsageError('pass --path or --store, not both');
  return values.path ?? values.store;
}

function openStore(values: Values, io: LocalCommandIo) {
  return openLocalStore({ env: values.env, path: storeFlag(values), 'key-file': values['key-file'] }, io.env);
}

type Extra = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function parse<E extends Extra>(args: string[], extra: E) {
  return parseFlags(args, { ...COMMON, ...extra });
}

function noPositionals(positionals: string[], command: string): void {
  if (positionals.length > 0) throw new UsageError(`${command} takes no arguments besides options`);
}

function help(io: LocalCommandIo): number {
  io.stdout(USAGE);
  return 0;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    size += buf.length;
    chunks.push(buf);
    if (size > MAX_STDIN_BYTES) {
      for (const c of chunks) c.fill(0);
      throw new ConfigError(`the value on stdin is larger than ${MAX_STDIN_BYTES - 2} bytes`);
    }
  }
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return all;
}

function toJson(entry: LocalStoreEntryInfo) {
  return {
    name: entry.name,
    currentVersion: entry.currentVersion,
    versions: entry.versions.map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString() })),
    metadata: entry.metadata,
    createdAt: entry.createdAt.toISOString(),
    updatedAt: entry.updatedAt.toISOString(),
  };
}

async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}


