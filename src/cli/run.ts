import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { createSecrets, type SecretsClient } from '../client.js';
import { ConfigError, InvalidSecretRefError } from '../errors.js';
import type { SecretProvider } from '../provider.js';
import { fromEnv } from '../providers/fromEnv.js';
import { ENV_KEY, ENV_KEY_FILE, ENV_PASSPHRASE } from '../providers/local-store/keys.js';
import { parseRef } from '../ref/parseRef.js';
import { formatRef } from '../ref/formatRef.js';
import { ENV_AUDIT_KEY, ENV_AUDIT_KEY_FILE } from './audit.js';
import { CLIENT_FLAG_OPTIONS, commandEnvironment, FLEET_FLAG_HELP, fleetBusOf, guardedClientOptions } from './clientFlags.js';
import type { FleetBus } from '../fleet/bus.js';
import { EXIT_FAILED, errorCode, errorExitCode, parseFlags, UsageError } from './subcommands.js';
import { exists, openLocalStore, storePathOf } from './store.js';

/**
 * What `connector-secrets run` reads and writes. The command passes the process's; `signals`
 * is where SIGINT, SIGTERM and SIGHUP arrive to be forwarded to the child.
 */
export interface RunCommandIo {
  /** Where the child's redacted standard output goes. */
  readonly stdout: Writable;
  /** Where the child's redacted standard error, and the command's own errors, go. */
  readonly stderr: Writable;
  /** The environment: configuration (`CONNECTOR_SECRETS_*`) and the base of the child's environment. */
  readonly env: Record<string, string | undefined>;
  /** Emits the signals to forward (the process). */
  readonly signals: EventEmitter;
}

const USAGE = `usage: connector-secrets run --env <tag> [--map NAME=ref ...] [--manifest FILE] [options] -- <command> [args...]

Resolves each ref through the providers (environment variables, then the local store when it
exists), the environment guards and the policy, and starts <command> with the values as
environment variables NAME=value (never on its command line). The child's stdout and stderr
pass through the redactor: every value, and its base64, URL-encoded, JSON-escaped, hex and
other derived forms, prints as [REDACTED]. SIGINT, SIGTERM and SIGHUP are forwarded to the child.

options:
  --env <tag>             environment tag (default ${'$'}CONNECTOR_SECRETS_ENV)
  --map NAME=ref          one variable (repeatable), e.g. --map DB_PASSWORD=local://orders-db/password
  --manifest FILE         a JSON object of variables: { "NAME": "ref" } or { "NAME": { "ref": "..." } }
  --store FILE            local store file (default ${'$'}CONNECTOR_SECRETS_STORE, else .secrets/<tag>.enc.json)
  --key-file FILE         local store key file (default ${'$'}${ENV_KEY_FILE}, else the .secrets/<tag>.key local init wrote)
  --identity ID           the connector identity that policy and audit see
  --policy FILE           a JSON or YAML access policy; refs it does not allow are denied
  --audit-file FILE       append the accesses to this HMAC-chained audit log (required for --env prod)
  --audit-key-file FILE   the audit HMAC key (default ${'$'}${ENV_AUDIT_KEY_FILE}, else ${'$'}${ENV_AUDIT_KEY})
${FLEET_FLAG_HELP.trimEnd()}
                          (default ${'$'}CONNECTOR_SECRETS_FLEET). The command gets it as
                          CONNECTOR_SECRETS_FLEET, so a connector-secrets client in it listens too;
                          a rotated mapped ref is read again so its new value is redacted; a
                          quarantine of --identity stops the command (SIGTERM)
  -h, --help              show this help

examples:
  connector-secrets run --env dev --map DB_PASSWORD=local://orders-db/password -- python tap.py
  connector-secrets run --env prod --identity orders-sync --audit-file audit.jsonl \\
    --fleet postgres://fleet@db.internal/ops --manifest secrets.json -- node sync.js

exit codes:
  the child's exit code; 128+n when it died of signal n
  1    a ref was denied (guard, policy) or could not be resolved; the command was not started
  2    usage or configuration error; the command was not started
  126  the command could not be executed
  127  the command was not found
`;

const OPTIONS = {
  ...CLIENT_FLAG_OPTIONS,
  map: { type: 'string', multiple: true },
  manifest: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Variables that hold key material for this command; the child does not need them. */
export const WITHHELD = [ENV_KEY, ENV_PASSPHRASE, ENV_AUDIT_KEY];

/**
 * Runs `connector-secrets run <argv…>`: resolves the mapped refs, runs the command after `--`
 * with them in its environment, redacts its output, and resolves to the exit code to use.
 *
 * @example
 * ```ts
 * process.exitCode = await runRunCommand(['--env', 'dev', '--map', 'TOKEN=env://ORDERS_TOKEN', '--', 'python', 'tap.py'], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process,
 * });
 * ```
 */
export async function runRunCommand(argv: string[], io: RunCommandIo): Promise<number> {
  const say = (text: string) => void io.stderr.write(text);
  let secrets: SecretsClient | undefined;
  let fleet: FleetBus | undefined;
  let fleetUrl: string | undefined;
  let refs: Record<string, string>;
  let values: Record<string, string>;
  let command: string;
  let commandArgs: string[];
  try {
    const split = argv.indexOf('--');
    const flags = parseFlags(split === -1 ? argv : argv.slice(0, split), OPTIONS, false);
    if (flags.values.help === true) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (flags.positionals.length > 0) throw new UsageError('the command goes after --: run [options] -- <command> [args...]');
    if (split === -1 || split === argv.length - 1) throw new UsageError('missing command: run [options] -- <command> [args...]');
    [command, ...commandArgs] = argv.slice(split + 1) as [string, ...string[]];
    const o = flags.values;
    const environment = commandEnvironment(o, io.env, 'run');
    refs = await mappings(o.map ?? [], o.manifest);
    if (Object.keys(refs).length === 0) throw new UsageError('nothing to resolve: pass --map NAME=ref or --manifest FILE');

    const providers: SecretProvider[] = [fromEnv()];
    const storeFlags = { env: environment, path: o.store, 'key-file': o['key-file'] };
    if (o.store !== undefined || o['key-file'] !== undefined || (await exists(storePathOf(storeFlags, io.env)))) {
      providers.push(await openLocalStore(storeFlags, io.env));
    }
    fleet = fleetBusOf(o, io.env);
    fleetUrl = fleet === undefined ? undefined : (o.fleet ?? io.env['CONNECTOR_SECRETS_FLEET']);
    secrets = createSecrets({ environment, providers, env: io.env, ...(await guardedClientOptions(o, io.env)), ...(fleet === undefined ? {} : { fleet }) });
    const resolved = await secrets.getMany(refs);
    values = {};
    for (const [name, secret] of Object.entries(resolved)) values[name] = secret.reveal();
  } catch (err) {
    await secrets?.close().catch(() => undefined);
    await fleet?.close().catch(() => undefined);
    say(`error [${errorCode(err)}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) say('run "connector-secrets run --help" for usage\n');
    return errorExitCode(err);
  }

  const env = fleetUrl === undefined ? values : { ...values, CONNECTOR_SECRETS_FLEET: fleetUrl };
  try {
    return await runChild(command, commandArgs, env, secrets, io, fleet === undefined ? undefined : Object.values(refs));
  } finally {
    await secrets.close().catch((err: unknown) => say(`error [${errorCode(err)}]: closing the audit log failed\n`));
    await fleet?.close().catch(() => undefined);
  }
}

/** Reads `--map` and `--manifest` into NAME → ref; names and refs are checked, never echoed. */
async function mappings(maps: readonly string[], manifest: string | undefined): Promise<Record<string, string>> {
  const refs: Record<string, string> = {};
  const add = (name: string, ref: unknown, where: string) => {
    if (!VARIABLE.test(name)) throw new UsageError(`${where}: the variable name must be letters, digits and _, not starting with a digit`);
    if (typeof ref !== 'string' || !isRef(ref)) throw new InvalidSecretRefError(`${where}: not a secret ref (scheme://path[#field])`);
    if (Object.hasOwn(refs, name)) throw new UsageError(`${where}: variable ${name} is mapped twice`);
    refs[name] = ref;
  };
  if (manifest !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(manifest, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(code === undefined ? `--manifest ${manifest} is not valid JSON` : `--manifest ${manifest} cannot be read (${code})`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`--manifest ${manifest} must hold a JSON object of NAME: ref`);
    for (const [name, spec] of Object.entries(doc)) {
      const ref = typeof spec === 'object' && spec !== null ? (spec as { ref?: unknown }).ref : spec;
      add(name, ref, `--manifest entry ${VARIABLE.test(name) ? name : '(invalid name)'}`);
    }
  }
  maps.forEach((map, i) => {
    const eq = map.indexOf('=');
    if (eq <= 0) throw new UsageError(`--map #${i + 1} must be NAME=ref`);
    add(map.slice(0, eq), map.slice(eq + 1), `--map #${i + 1}`);
  });
  return refs;
}

function isRef(text: string): boolean {
  try {
    parseRef(text);
    return true;
  } catch {
    return false;
  }
}

/** Starts the child with the values in its environment, redacts its output, forwards signals, and returns its exit code. */
async function runChild(command: string, args: string[], values: Record<string, string>, secrets: SecretsClient, io: RunCommandIo, fleetRefs?: readonly string[]): Promise<number> {
  const env: Record<string, string | undefined> = { ...io.env };
  for (const name of WITHHELD) delete env[name];
  Object.assign(env, values);
  const child = spawn(command, args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
  const offFleet = fleetRefs === undefined ? undefined : listenToFleet(child, secrets, fleetRefs, io);
  const forward = new Map(FORWARDED.map((signal) => [signal, () => void child.kill(signal)] as const));
  for (const [signal, listener] of forward) io.signals.on(signal, listener);
  try {
    const drained = [pipeRedacted(child.stdout, io.stdout, secrets), pipeRedacted(child.stderr, io.stderr, secrets)];
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    await Promise.all(drained);
    if ('error' in exit) {
      // The command is not echoed: it is the user's input and its arguments may be anything.
      const code = exit.error.code ?? 'error';
      io.stderr.write(`error [${code}]: the command after -- could not be started (${code})\n`);
      return code === 'ENOENT' ? 127 : 126;
    }
    if (exit.signal !== null) return 128 + (constants.signals[exit.signal] ?? 0);
    return exit.code ?? EXIT_FAILED;
  } finally {
    offFleet?.();
    for (const [signal, listener] of forward) io.signals.off(signal, listener);
  }
}

/**
 * While the command runs: a mapped ref rotated elsewhere is read again, so the redactor knows
 * the new value before the command can print it; a quarantine of this identity stops the command.
 */
function listenToFleet(child: ReturnType<typeof spawn>, secrets: SecretsClient, refs: readonly string[], io: RunCommandIo): () => void {
  const keys = new Set(refs.map((r) => canonical(r)));
  return secrets.on('fleet', (event) => {
    if (event.type === 'rotated' && keys.has(event.ref)) {
      for (const ref of refs) if (canonical(ref) === event.ref) void secrets.get(ref).catch(() => undefined);
    } else if (event.type === 'quarantined' && event.identity === secrets.identity) {
      io.stderr.write(`connector-secrets: identity ${secrets.identity} was quarantined (fleet event ${event.id}); stopping the command\n`);
      child.kill('SIGTERM');
    }
  });
}

/** A ref without `#field`, as fleet events name it. */
function canonical(ref: string): string {
  const { scheme, path, segments, params } = parseRef(ref);
  return formatRef({ scheme, path, segments, params });
}

/** Pipes a child's stream through a fresh redacting stream into `out` (left open); resolves when all is written. */
function pipeRedacted(from: NodeJS.ReadableStream, out: Writable, secrets: SecretsClient): Promise<void> {
  const redact = secrets.redactor.createRedactStream();
  from.pipe(redact);
  redact.pipe(out, { end: false });
  // Our reader went away (`run … | head`): stop reading the child's stream, so its next write
  // fails (EPIPE) as it would without us, instead of this process dying of an unhandled error.
  const onOutError = () => {
    redact.unpipe(out);
    (from as NodeJS.ReadableStream & { destroy(): void }).destroy();
    redact.destroy();
  };
  // Kept after the end too: an EPIPE can arrive after the last write.
  out.on('error', onOutError);
  return new Promise((resolve) => {
    redact.once('close', resolve);
    redact.once('end', resolve);
    redact.once('error', () => {
      // A redaction failure must not let raw output through: stop passing anything on.
      from.unpipe(redact);
      out.write('[output stopped: redaction failed]\n');
      resolve();
    });
  });
}
