import { createSecrets, type DescribedSecret, type SecretsClient } from '../client.js';
import { parseDuration } from '../duration.js';
import { ConfigError, EnvironmentMismatchError } from '../errors.js';
import { refFor } from '../manifest.js';
import { loadConfig, loadManifests, providersFor, type LoadedConfig } from './config.js';
import { EXIT_CODES_HELP, EXIT_FAILED, errorCode, errorExitCode, parseFlags, UsageError, type CommandOutput } from './subcommands.js';

/** What `connector-secrets inventory` reads and writes. */
export interface InventoryIo extends CommandOutput {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where a relative `--config` and the default config names are looked up. */
  readonly cwd: string;
  /** The current time, epoch ms (due and overdue are computed against it). */
  readonly now: () => number;
}

const USAGE = `usage: connector-secrets inventory --env <tag> [--config FILE] [--json | --csv] [--fail-on LIST]

Every secret the configured manifests declare, joined with what the providers of each
environment know about it (describe: version, dates, tags; never a value): owner, purpose,
sensitivity, rotation cadence, last rotation, due/overdue, expiry, and the environments where
it resolves. Each describe passes the environment guards and the policy and is audited like a get.

flags on a row:
  overdue     the last rotation (or creation) is older than the declared cadence
  expired     the provider reports an expiry in the past
  unowned     the owner is a placeholder (unknown, tbd, todo, none, n/a, -)
  unresolved  the ref resolves in no configured environment
  mistagged   the secret is tagged for another environment than one it resolved in (ENVIRONMENT_MISMATCH)

options:
  --env <tag>        the environment whose facts fill the row (default ${'$'}CONNECTOR_SECRETS_ENV)
  --config FILE      default: the first of ./connector-secrets.config.{json,yaml,yml,mjs}
  --identity ID      the identity policy and audit see (default: the config's identity)
  --json             one JSON document: { environment, environments, generatedAt, entries[], counts }
  --csv              one CSV row per entry (header first)
  --fail-on LIST     exit 1 when any row has one of these flags (comma-separated:
                     overdue, expired, unowned, unresolved, mistagged; or none). Default: overdue,unowned
  -h, --help         show this help

examples:
  connector-secrets inventory --env prod
  connector-secrets inventory --env prod --json > inventory.json
  connector-secrets inventory --env prod --fail-on overdue,unowned,unresolved   # a CI gate

${EXIT_CODES_HELP}`;

const OPTIONS = {
  env: { type: 'string' },
  config: { type: 'string' },
  identity: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const FLAGS = ['overdue', 'expired', 'unowned', 'unresolved', 'mistagged'] as const;
export type InventoryFlag = (typeof FLAGS)[number];
const PLACEHOLDER_OWNERS = new Set(['', 'unknown', 'tbd', 'todo', 'none', 'n/a', '-', '?']);
/** A rotation is "due" in the last tenth of its cadence (at most 7 days) before it is overdue. */
const DUE_WINDOW = 0.1;
const DUE_WINDOW_MAX_MS = 7 * 86_400_000;

/** One row of the inventory. Dates are ISO 8601 strings; never a value. */
export interface InventoryRow {
  readonly manifest: string;
  readonly name: string;
  readonly ref: string;
  readonly owner: string;
  readonly purpose: string;
  readonly sensitivity: string;
  readonly rotation: string | null;
  readonly provider: string | null;
  readonly version: string | null;
  readonly lastRotated: string | null;
  readonly nextRotation: string | null;
  readonly dueAt: string | null;
  /** `ok`, `due`, `overdue`, `unknown` (a cadence but no date), or null without a cadence. */
  readonly rotationStatus: 'ok' | 'due' | 'overdue' | 'unknown' | null;
  readonly expiresAt: string | null;
  readonly resolvesIn: readonly string[];
  /** Per environment that did not resolve: the error code (SECRET_NOT_FOUND, POLICY_DENIED, …). */
  readonly failures: Readonly<Record<string, string>>;
  readonly flags: readonly InventoryFlag[];
}

/**
 * Runs `connector-secrets inventory <argv…>` and resolves to the exit code: 0, 1 when a row has
 * a flag of `--fail-on`, 2 on a usage or configuration error.
 *
 * @example
 * ```ts
 * process.exitCode = await runInventoryCommand(['--env', 'prod', '--json'], { stdout, stderr, env: process.env, cwd: process.cwd(), now: Date.now });
 * ```
 */
export async function runInventoryCommand(argv: string[], io: InventoryIo): Promise<number> {
  try {
    const { values: o } = parseFlags(argv, OPTIONS, false);
    if (o.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    if (o.json === true && o.csv === true) throw new UsageError('--json and --csv exclude each other');
    const failOn = parseFailOn(o['fail-on']);
    const loaded = await loadConfig(o.config, io.cwd);
    const environment = o.env ?? (io.env['CONNECTOR_SECRETS_ENV'] || undefined);
    if (environment === undefined) throw new UsageError('inventory needs --env <tag>');
    if (!loaded.config.environments.includes(environment)) {
      throw new ConfigError(`--env names an environment the configuration does not list (environments: ${loaded.config.environments.join(', ')})`);
    }
    const rows = await buildInventory(loaded, environment, o.identity, io);
    if (o.json === true) {
      const counts = Object.fromEntries(FLAGS.map((f) => [f, rows.filter((r) => r.flags.includes(f)).length]));
      io.stdout(`${JSON.stringify({ environment, environments: loaded.config.environments, generatedAt: new Date(io.now()).toISOString(), entries: rows, counts }, null, 2)}\n`);
    } else if (o.csv === true) {
      io.stdout(toCsv(rows));
    } else {
      io.stdout(toTable(rows, environment));
    }
    return rows.some((r) => r.flags.some((f) => failOn.has(f))) ? EXIT_FAILED : 0;
  } catch (err) {
    io.stderr(`error [${errorCode(err)}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr('run "connector-secrets inventory --help" for usage\n');
    return errorExitCode(err);
  }
}

function parseFailOn(text: string | undefined): Set<InventoryFlag> {
  if (text === undefined) return new Set(['overdue', 'unowned']);
  if (text === 'none') return new Set();
  const out = new Set<InventoryFlag>();
  for (const [i, part] of text.split(',').entries()) {
    const flag = part.trim();
    if (!(FLAGS as readonly string[]).includes(flag)) throw new UsageError(`--fail-on item ${i + 1} is not one of ${FLAGS.join(', ')} (or none)`);
    out.add(flag as InventoryFlag);
  }
  return out;
}

/**
 * Describes every manifest entry in every configured environment (one client each, with the
 * configuration's policy and identity) and computes the row of each from `environment`'s facts.
 */
export async function buildInventory(loaded: LoadedConfig, environment: string, identity: string | undefined, io: Pick<InventoryIo, 'env' | 'now'>): Promise<InventoryRow[]> {
  const manifests = await loadManifests(loaded);
  const who = identity ?? loaded.config.identity;
  const clients = new Map<string, SecretsClient>();
  try {
    for (const tag of loaded.config.environments) {
      clients.set(
        tag,
        createSecrets({
          environment: tag,
          providers: await providersFor(loaded, tag, io.env),
          env: io.env,
          // inventory has no audit-log option yet (run has --audit-file); a prod client must be told so explicitly.
          audit: false,
          ...(who === undefined ? {} : { identity: who }),
          ...(loaded.config.policy === undefined ? {} : { policy: { path: resolveFrom(loaded, loaded.config.policy) } }),
        }),
      );
    }
    const rows: InventoryRow[] = [];
    for (const { file, exportName, manifest } of manifests) {
      for (const [name, spec] of Object.entries(manifest.specs)) {
        const entry = manifest.inventory().find((e) => e.name === name)!;
        const facts = new Map<string, DescribedSecret>();
        const failures: Record<string, string> = {};
        let mistagged = false;
        for (const [tag, client] of clients) {
          try {
            facts.set(tag, await client.describe(refFor(spec, tag)));
          } catch (err) {
            failures[tag] = errorCode(err);
            // Tagged for another environment; an untagged secret refused by strict mode is not mis-tagged.
            if (err instanceof EnvironmentMismatchError && err.targetEnvironment !== undefined) mistagged = true;
          }
        }
        rows.push(rowOf({ manifest: `${relative(loaded, file)}#${exportName}`, name, entry, facts: facts.get(environment), resolvesIn: [...facts.keys()], failures, mistagged, now: io.now(), ref: refFor(spec, environment) }));
      }
    }
    return rows;
  } finally {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
  }
}

function rowOf(input: {
  manifest: string;
  name: string;
  ref: string;
  entry: { owner: string; purpose: string; sensitivity: string; rotation: string | undefined; rotationMs: number | undefined };
  facts: DescribedSecret | undefined;
  resolvesIn: string[];
  failures: Record<string, string>;
  mistagged: boolean;
  now: number;
}): InventoryRow {
  const { entry, facts, now } = input;
  const cadence = entry.rotation ?? facts?.metadata?.rotation;
  const cadenceMs = entry.rotationMs ?? (cadence === undefined ? undefined : safeDuration(cadence));
  const last = facts?.lastRotatedAt ?? facts?.createdAt ?? facts?.updatedAt;
  const dueAt = cadenceMs === undefined || last === undefined ? undefined : last.getTime() + cadenceMs;
  let status: InventoryRow['rotationStatus'] = null;
  if (cadenceMs !== undefined) {
    if (dueAt === undefined) status = 'unknown';
    else if (now >= dueAt) status = 'overdue';
    else if (now >= dueAt - Math.min(cadenceMs * DUE_WINDOW, DUE_WINDOW_MAX_MS)) status = 'due';
    else status = 'ok';
  }
  const flags: InventoryFlag[] = [];
  if (status === 'overdue') flags.push('overdue');
  if (facts?.expiresAt !== undefined && facts.expiresAt.getTime() <= now) flags.push('expired');
  if (PLACEHOLDER_OWNERS.has(entry.owner.trim().toLowerCase())) flags.push('unowned');
  if (input.resolvesIn.length === 0) flags.push('unresolved');
  if (input.mistagged) flags.push('mistagged');
  const iso = (d: Date | undefined) => (d === undefined ? null : d.toISOString());
  return {
    manifest: input.manifest,
    name: input.name,
    ref: input.ref,
    owner: entry.owner,
    purpose: entry.purpose,
    sensitivity: entry.sensitivity,
    rotation: cadence ?? null,
    provider: facts?.provider ?? null,
    version: facts?.version ?? null,
    lastRotated: iso(last),
    nextRotation: iso(facts?.nextRotationAt),
    dueAt: dueAt === undefined ? null : new Date(dueAt).toISOString(),
    rotationStatus: status,
    expiresAt: iso(facts?.expiresAt),
    resolvesIn: input.resolvesIn,
    failures: input.failures,
    flags,
  };
}

/** A cadence from a provider's tag: unreadable text is no cadence (it is the provider's label, not our config). */
function safeDuration(text: string): number | undefined {
  try {
    return parseDuration(text, 'rotation');
  } catch {
    return undefined;
  }
}

function resolveFrom(loaded: LoadedConfig, path: string): string {
  return path.startsWith('/') ? path : `${loaded.dir}/${path}`;
}

function relative(loaded: LoadedConfig, file: string): string {
  return file.startsWith(`${loaded.dir}/`) ? file.slice(loaded.dir.length + 1) : file;
}

const COLUMNS: readonly [string, (r: InventoryRow) => string][] = [
  ['NAME', (r) => r.name],
  ['REF', (r) => r.ref],
  ['OWNER', (r) => r.owner],
  ['PURPOSE', (r) => r.purpose],
  ['SENSITIVITY', (r) => r.sensitivity],
  ['ROTATION', (r) => r.rotation ?? '-'],
  ['LAST ROTATED', (r) => r.lastRotated?.slice(0, 10) ?? '-'],
  ['STATUS', (r) => (r.rotationStatus === null ? '-' : r.rotationStatus === 'ok' ? `ok (due ${r.dueAt!.slice(0, 10)})` : r.rotationStatus === 'unknown' ? 'unknown' : `${r.rotationStatus} (${r.dueAt!.slice(0, 10)})`)],
  ['EXPIRES', (r) => r.expiresAt?.slice(0, 10) ?? '-'],
  ['RESOLVES IN', (r) => (r.resolvesIn.length === 0 ? '-' : r.resolvesIn.join(','))],
  ['FLAGS', (r) => (r.flags.length === 0 ? '' : r.flags.join(','))],
];

function toTable(rows: readonly InventoryRow[], environment: string): string {
  if (rows.length === 0) return 'no secrets declared\n';
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const lines = cells.map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
  const flagged = FLAGS.map((f) => [f, rows.filter((r) => r.flags.includes(f)).length] as const).filter(([, n]) => n > 0);
  const summary = `${rows.length} secret(s) for ${environment}${flagged.length === 0 ? ', nothing flagged' : `: ${flagged.map(([f, n]) => `${n} ${f}`).join(', ')}`}`;
  return `${lines.join('\n')}\n\n${summary}\n`;
}

const CSV_FIELDS = ['manifest', 'name', 'ref', 'owner', 'purpose', 'sensitivity', 'rotation', 'provider', 'version', 'lastRotated', 'nextRotation', 'dueAt', 'rotationStatus', 'expiresAt', 'resolvesIn', 'flags'] as const;

function toCsv(rows: readonly InventoryRow[]): string {
  const cell = (v: unknown): string => {
    const text = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(';') : String(v);
    // Quoted when needed; a leading formula character is defused for spreadsheets.
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  return [CSV_FIELDS.join(','), ...rows.map((r) => CSV_FIELDS.map((f) => cell(r[f])).join(','))].join('\n') + '\n';
}
