import { spawn } from 'node:child_process';
import { createSecrets, type SecretsClient } from '../client.js';
import { ConfigError, isConnectorSecretsError } from '../errors.js';
import { parseRef } from '../ref/parseRef.js';
import type { RotationResult } from '../rotation/types.js';
import { ENV_AUDIT_KEY_FILE } from './audit.js';
import { readAll } from './local.js';
import { CLIENT_FLAG_OPTIONS, commandEnvironment, FLEET_FLAG_HELP, fleetBusOf, guardedClientOptions } from './clientFlags.js';
import type { FleetBus } from '../fleet/bus.js';
import { WITHHELD } from './run.js';
import { openLocalStore } from './store.js';
import { ENV_PG_ADMIN_URL, postgresRotatePlan } from './rotatePostgres.js';
import { EXIT_CODES_HELP, EXIT_FAILED, errorCode, errorExitCode, parseFlags, UsageError, type CommandOutput } from './subcommands.js';

/** What `connector-secrets rotate` reads and writes. */
export interface RotateCommandIo extends CommandOutput {
  /** Where the new value is read from when `--generate` is not given. */
  readonly stdin: NodeJS.ReadableStream;
  /** Configuration (`CONNECTOR_SECRETS_*`) and the base of a `--verify` command's environment. */
  readonly env: Record<string, string | undefined>;
}

const USAGE = `usage: connector-secrets rotate <ref> --env <tag> [--generate N] [options] [--verify -- <command> [args...]]

Writes a new version of a secret in the local store: a generated value (--generate N characters
of letters and digits, from crypto randomness) or the value read from stdin (never from
arguments). Handles and caches of this process are told; other processes read the new version
when their cache or handle refreshes, or at once when they listen on the --fleet bus this
command publishes "rotated" to (ref and version, never the value). The rotation is audited (identity, ref, old and new
version; never the value).

Verification is off by default. With --verify, <command> runs with the new value in its
environment (as SECRET_VALUE, or --verify-var NAME); its output is redacted onto stderr; an
exit code other than 0 refuses the value and the previous one is written back as a new version.

options:
  --env <tag>             environment tag (default ${'$'}CONNECTOR_SECRETS_ENV)
  --generate N            generate N characters instead of reading stdin (1 to 4096)
  --alphabet S            the characters to generate from (2 to 256 distinct ones)
  --store FILE            local store file (default ${'$'}CONNECTOR_SECRETS_STORE, else .secrets/<tag>.enc.json)
  --key-file FILE         local store key file
  --identity ID           the identity that policy and audit see
  --policy FILE           a JSON or YAML access policy; a ref it does not allow is not rotated
  --audit-file FILE       append the rotation to this HMAC-chained audit log (required for --env prod)
  --audit-key-file FILE   the audit HMAC key (default ${'$'}${ENV_AUDIT_KEY_FILE})
  --verify-var NAME       the variable that holds the new value for --verify (default SECRET_VALUE)
  --postgres STRATEGY     the secret is a PostgreSQL login ({"username","password"}): rotate it with
                          'single' (ALTER ROLE its own role) or 'alternating' (--roles A,B: the login
                          flips to the other role); the new login is checked before it is kept
  --roles A,B             the two roles of --postgres alternating
  --overlap DURATION      --postgres alternating: the role left behind keeps its password this long
                          (e.g. 15m; this command waits), then loses it (default 0)
  --postgres-admin-env V  the variable holding the admin connection URL (default ${'$'}${ENV_PG_ADMIN_URL})
${FLEET_FLAG_HELP.trimEnd()} (default ${'$'}CONNECTOR_SECRETS_FLEET)
  --json                  print {"ok", "ref", "provider", "previousVersion", "version", "verified", "fleet"}
                          (on a failed rotation: {"ok": false, "ref", "code", "rolledBack"})
  -h, --help              show this help

${EXIT_CODES_HELP}  (1 here: the rotation was denied, refused by the store, or refused by --verify; or it was
   made but the --fleet bus was not told: "fleet" is null in --json)

examples:
  connector-secrets rotate local://orders-api --env dev --generate 40
  connector-secrets rotate local://orders-db --env prod --audit-file audit.jsonl \\
    --postgres alternating --roles orders_a,orders_b --overlap 15m --fleet postgres://fleet@db.internal/ops
`;

const OPTIONS = {
  ...CLIENT_FLAG_OPTIONS,
  generate: { type: 'string' },
  alphabet: { type: 'string' },
  verify: { type: 'boolean' },
  'verify-var': { type: 'string' },
  postgres: { type: 'string' },
  roles: { type: 'string' },
  overlap: { type: 'string' },
  'postgres-admin-env': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Runs `connector-secrets rotate <argv…>` and resolves to the exit code: 0 rotated, 1 denied or
 * refused (rolled back), 2 usage or configuration error.
 *
 * @example
 * ```ts
 * process.exitCode = await runRotateCommand(['local://orders-api', '--env', 'dev', '--generate', '32'], {
 *   stdin: process.stdin, stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env,
 * });
 * ```
 */
export async function runRotateCommand(argv: string[], io: RotateCommandIo): Promise<number> {
  let secrets: SecretsClient | undefined;
  let fleet: FleetBus | undefined;
  let json = false;
  let ref: string | undefined;
  try {
    const split = argv.indexOf('--');
    const flags = parseFlags(split === -1 ? argv : argv.slice(0, split), OPTIONS);
    const o = flags.values;
    json = o.json === true;
    if (o.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    if (flags.positionals.length !== 1) throw new UsageError('rotate takes one argument, the ref: rotate <ref> --env <tag>');
    try {
      ref = String(parseRef(flags.positionals[0]!));
    } catch {
      throw new UsageError('the argument is not a secret ref (scheme://path)');
    }
    const verifyCommand = split === -1 ? undefined : argv.slice(split + 1);
    if (o.verify === true && (verifyCommand === undefined || verifyCommand.length === 0)) throw new UsageError('--verify needs a command after --: --verify -- <command> [args...]');
    if (o.verify !== true && verifyCommand !== undefined) throw new UsageError('a command after -- is only run with --verify');
    const variable = o['verify-var'] ?? 'SECRET_VALUE';
    if (!VARIABLE.test(variable)) throw new UsageError('--verify-var must be letters, digits and _, not starting with a digit');
    const environment = commandEnvironment(o, io.env, 'rotate');
    const database = postgresRotatePlan(o, io.env);
    if (database !== undefined && verifyCommand !== undefined) throw new UsageError('--postgres checks the new login itself: drop --verify');
    let length: number | undefined;
    if (o.generate !== undefined) {
      length = /^\d{1,4}$/.test(o.generate) ? Number(o.generate) : NaN;
      if (!(length >= 1 && length <= 4096)) throw new UsageError('--generate must be a number of characters from 1 to 4096');
    } else if (o.alphabet !== undefined) {
      throw new UsageError('--alphabet goes with --generate N');
    }

    const store = await openLocalStore({ env: environment, path: o.store, 'key-file': o['key-file'] }, io.env);
    fleet = fleetBusOf(o, io.env);
    // The client publishes "rotated" after the rotation (a failure there is reported, not thrown);
    // its id and time are recorded for --json.
    let published: { id: string; at: string } | undefined;
    const bus = fleet;
    const recording: FleetBus | undefined =
      bus === undefined
        ? undefined
        : {
            name: bus.name,
            origin: bus.origin,
            publish: async (body) => {
              const event = await bus.publish(body);
              if (event.type === 'rotated') published = { id: event.id, at: event.at };
              return event;
            },
            subscribe: (listener) => bus.subscribe(listener),
            ready: () => bus.ready(),
            close: () => bus.close(),
          };
    secrets = createSecrets({ environment, providers: [store], env: io.env, cache: false, ...(await guardedClientOptions(o, io.env)), ...(recording === undefined ? {} : { fleet: recording }) });
    const fleetErrors: unknown[] = [];
    secrets.on('fleet-error', (err) => void fleetErrors.push(err));
    const generate = length === undefined ? undefined : { length, ...(o.alphabet === undefined ? {} : { alphabet: o.alphabet }) };
    let result: RotationResult;
    if (database !== undefined) {
      result = await database.run(secrets, ref, generate);
    } else {
      const change = generate === undefined ? { value: await stdinValue(io.stdin) } : { generate };
      const client = secrets;
      result = await secrets.rotate(ref, change, {
        ...(verifyCommand === undefined ? {} : { verify: (next) => runVerify(verifyCommand, variable, next.reveal(), client, io) }),
      });
    }
    await secrets.close();
    secrets = undefined;
    const told = fleet === undefined ? undefined : fleetErrors.length === 0;
    await fleet?.close();
    fleet = undefined;
    const verified = verifyCommand !== undefined || database !== undefined;
    const fleetJson = told === undefined ? undefined : told ? (published ?? { id: null, at: null }) : null;
    if (json) io.stdout(`${JSON.stringify({ ok: true, ref: result.ref, provider: result.provider, previousVersion: result.previousVersion ?? null, version: result.version ?? null, verified, ...(fleetJson === undefined ? {} : { fleet: fleetJson }) })}\n`);
    else io.stdout(`rotated ${result.ref}: version ${result.previousVersion ?? '?'} -> ${result.version ?? '?'}${verified ? ' (verified)' : ''}${told === true ? '; the fleet was told' : ''}\n`);
    if (told === false) {
      io.stderr(`error [${errorCode(fleetErrors[0])}]: the rotation was made, but the --fleet bus was not told: other processes see it when their caches expire\n`);
      return EXIT_FAILED;
    }
    return 0;
  } catch (err) {
    await secrets?.close().catch(() => undefined);
    await fleet?.close().catch(() => undefined);
    const code = errorCode(err);
    io.stderr(`error [${code}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr('run "connector-secrets rotate --help" for usage\n');
    const exit = errorExitCode(err);
    if (json && exit === EXIT_FAILED) {
      const rolledBack = isConnectorSecretsError(err) && 'rolledBack' in err ? err.rolledBack : null;
      io.stdout(`${JSON.stringify({ ok: false, ref: ref ?? null, code, rolledBack })}\n`);
    }
    return exit;
  }
}

/** The value on stdin, without one trailing newline; text only. */
async function stdinValue(stdin: NodeJS.ReadableStream): Promise<string> {
  const raw = await readAll(stdin);
  try {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new ConfigError('the value on stdin is not UTF-8 text');
    }
    text = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
    if (text.length === 0) throw new ConfigError('no value on stdin: pipe the new value in, or pass --generate N');
    return text;
  } finally {
    raw.fill(0);
  }
}

/** Runs the --verify command with the new value in its environment; its output goes redacted to stderr. True when it exits 0. */
async function runVerify(command: string[], variable: string, value: string, secrets: SecretsClient, io: RotateCommandIo): Promise<boolean> {
  const env: Record<string, string | undefined> = { ...io.env, [variable]: value };
  for (const name of WITHHELD) delete env[name];
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => out.push(c));
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (c) => resolve(c));
  });
  const text = Buffer.concat(out).toString('utf8');
  if (text !== '') io.stderr(secrets.redactor.redact(text.endsWith('\n') ? text : `${text}\n`));
  if (code === null) io.stderr('error: the --verify command could not be started\n');
  return code === 0;
}
