import type { Pool } from 'pg';
import type { AuditSink } from '../audit/event.js';
import { readLines } from '../audit/lines.js';
import { DEFAULT_AUDIT_TABLE } from '../audit/pgTable.js';
import { postgresAuditSink } from '../audit/postgresAuditSink.js';
import { readAuditRows } from '../audit/readAuditRows.js';
import { parseLine } from '../audit/record.js';
import { verifyAuditLog } from '../audit/verifyAuditLog.js';
import { verifyPostgresAuditLog } from '../audit/verifyPostgresAuditLog.js';
import { createSecrets, type SecretsClient } from '../client.js';
import { parseDuration } from '../duration.js';
import { AccessCollector } from '../incident/accesses.js';
import { publishToFleet, type IncidentPublisher } from '../incident/fleetHook.js';
import { writeIncidentReport, type IncidentReport, type IncidentRotation, type IncidentSource, type IncidentStep } from '../incident/report.js';
import { fromEnv } from '../providers/fromEnv.js';
import { assertEnvironmentTag } from '../providers/local-store/names.js';
import { ENV_AUDIT_KEY, ENV_AUDIT_KEY_FILE } from './audit.js';
import { auditKey, fleetBusOf, guardedClientOptions } from './clientFlags.js';
import type { FleetBus } from '../fleet/bus.js';
import { openPgPool, shownUrl } from './pgPool.js';
import { openLocalStore } from './store.js';
import { EXIT_CODES_HELP, EXIT_FAILED, errorCode, parseFlags, runSubcommands, UsageError, type CommandOutput } from './subcommands.js';

/** What `connector-secrets incident` reads and writes. */
export interface IncidentCommandIo extends CommandOutput {
  /** Configuration (`CONNECTOR_SECRETS_*`). */
  readonly env: Record<string, string | undefined>;
  /**
   * The clock of the report and the `--since` window, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Publishes `quarantined` / `lifted` to the fleet. From the command line, `--fleet <url>`
   * supplies it (a `connector-secrets/fleet` bus; see src/incident/fleetHook.ts).
   */
  readonly publish?: IncidentPublisher;
}

const USAGE = `usage: connector-secrets incident <command> --identity <id> --reason R --env <tag> [options]

commands:
  quarantine --identity <id> --reason R --env <tag> [--since 24h] [--rotate] [--report DIR]
             [--audit FILE ...] [--postgres URL [--table T]]
      1. quarantines the identity (audited as a quarantine record), in this process and, with
         --fleet, on every process of the fleet bus (without it the report says it was not sent);
      2. reads the audit log(s), verifying them first with the audit key, and lists every
         secret the identity read successfully since --since (resolves, cache hits and their
         summaries, refreshes, renewals): when, how often, from which environment;
      3. leases: audit records carry no lease id, so leases the records show are listed as
         not revoked, with why; the identity's own processes revoke theirs when quarantined;
      4. with --rotate, rotates each listed secret in the local store (--generate N characters,
         default 32; no verification), recording old and new version, never the value, and
         with --fleet publishes each rotation (a rotation the bus did not hear of fails the step);
      5. writes incident-<identity>-<time>.md and .json into --report DIR (default .).
  lift --identity <id> --reason R --env <tag> [--report DIR] [--postgres URL]
      Lifts the quarantine, audited, and writes the report of the lift.

options:
  --identity <id>         the identity under incident
  --reason <text>         why (recorded in the audit log and the report; never put a secret here)
  --env <tag>             environment tag (default ${'$'}CONNECTOR_SECRETS_ENV)
  --since <T>             the window's start: a duration back from now (24h, 7d) or an ISO time (default 24h)
  --audit <file>          an audit log to read (repeatable)
  --postgres <url>        a postgresAuditSink table to read; the incident's own records go there too
                          unless --audit-file is given
  --table <name>          the table (default connector_secrets_audit)
  --audit-file <file>     where the incident's own records go (required for --env prod without --postgres)
  --audit-key-file <file> the audit HMAC key, to verify what is read and sign what is written
                          (default ${'$'}${ENV_AUDIT_KEY_FILE}, else ${'$'}${ENV_AUDIT_KEY})
  --rotate                rotate every secret the identity read
  --generate <N>          length of the generated values (default 32)
  --store <file>          local store file (default ${'$'}CONNECTOR_SECRETS_STORE, else .secrets/<tag>.enc.json)
  --key-file <file>       local store key file
  --operator <id>         the identity this command runs as (what policy and audit see)
  --policy <file>         an access policy for this command's own client
  --report <dir>          where the report goes (default .)
  --fleet <url>           a fleet bus (postgres://…; default ${'$'}CONNECTOR_SECRETS_FLEET): publish the
                          quarantine or lift, so every process on the bus applies it
  --json                  print the report (JSON) on stdout
  -h, --help              show this help

examples:
  connector-secrets incident quarantine --identity orders-sync --reason "INC-2291: token in a paste" \\
      --env prod --audit /var/log/connector/orders-sync.jsonl --audit-file /var/log/connector/incidents.jsonl --rotate
  connector-secrets incident quarantine --identity orders-sync --reason INC-2291 --env prod \\
      --postgres postgres://auditor@db:5432/ops --since 7d --report ./incidents
  connector-secrets incident lift --identity orders-sync --reason "INC-2291 closed" --env prod --postgres postgres://auditor@db:5432/ops

${EXIT_CODES_HELP}  (1 here: a step failed: an audit source does not verify, or a rotation failed)
`;

const OPTIONS = {
  identity: { type: 'string' },
  reason: { type: 'string' },
  env: { type: 'string' },
  since: { type: 'string' },
  audit: { type: 'string', multiple: true },
  postgres: { type: 'string' },
  table: { type: 'string' },
  'audit-file': { type: 'string' },
  'audit-key-file': { type: 'string' },
  rotate: { type: 'boolean' },
  generate: { type: 'string' },
  store: { type: 'string' },
  'key-file': { type: 'string' },
  operator: { type: 'string' },
  policy: { type: 'string' },
  report: { type: 'string' },
  fleet: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>['values'];

/**
 * Runs `connector-secrets incident <argv…>` and resolves to the exit code: 0 every step done, 1 a
 * step failed (an audit source that does not verify, a rotation refused), 2 usage or
 * configuration error.
 *
 * @example
 * ```ts
 * process.exitCode = await runIncidentCommand(['quarantine', '--identity', 'orders-sync', '--reason', 'INC-1', '--env', 'dev'], {
 *   stdout: (s) => void process.stdout.write(s), stderr: (s) => void process.stderr.write(s), env: process.env,
 * });
 * ```
 */
export async function runIncidentCommand(argv: string[], io: IncidentCommandIo): Promise<number> {
  return runSubcommands('incident', argv, { quarantine: (a, o) => incident('quarantine', a, o), lift: (a, o) => incident('lift', a, o) }, USAGE, io);
}

async function incident(kind: 'quarantine' | 'lift', args: string[], io: IncidentCommandIo): Promise<number> {
  const { values: o, positionals } = parseFlags(args, OPTIONS);
  if (o.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`incident ${kind} takes no positional argument`);
  const identity = o.identity;
  if (identity === undefined || identity === '') throw new UsageError(`incident ${kind} needs --identity <id>`);
  const reason = o.reason;
  if (reason === undefined || reason.trim() === '') throw new UsageError(`incident ${kind} needs --reason <text>`);
  const environment = o.env ?? (io.env['CONNECTOR_SECRETS_ENV'] || undefined);
  if (environment === undefined) throw new UsageError(`incident ${kind} needs --env <tag>`);
  assertEnvironmentTag(environment, '--env');
  if (environment === 'prod' && o['audit-file'] === undefined && o.postgres === undefined) {
    throw new UsageError('--env prod needs an audit log for the incident\'s own records: pass --audit-file FILE or --postgres URL');
  }
  if (kind === 'lift' && (o.rotate === true || o.audit !== undefined || o.since !== undefined || o.generate !== undefined)) {
    throw new UsageError('--rotate, --audit, --since and --generate belong to incident quarantine');
  }
  if (o.table !== undefined && o.postgres === undefined) throw new UsageError('--table goes with --postgres URL');
  let length = 32;
  if (o.generate !== undefined) {
    length = /^\d{1,4}$/.test(o.generate) ? Number(o.generate) : NaN;
    if (!(length >= 1 && length <= 4096)) throw new UsageError('--generate must be a number of characters from 1 to 4096');
    if (o.rotate !== true) throw new UsageError('--generate goes with --rotate');
  }
  const now = io.now ?? Date.now;
  const started = now();
  const until = started;
  const since = kind === 'quarantine' ? instant(o.since ?? '24h', started) : undefined;
  const table = o.table ?? DEFAULT_AUDIT_TABLE;
  const needsKey = o['audit-file'] !== undefined || o.postgres !== undefined;
  const hmacKey = await optionalKey(o['audit-key-file'], io.env);
  if (needsKey && hmacKey === undefined) {
    throw new UsageError(`--audit-file and --postgres sign the incident's records: pass --audit-key-file K, or set ${ENV_AUDIT_KEY_FILE} or ${ENV_AUDIT_KEY}`);
  }

  const steps: IncidentStep[] = [];
  const step = (name: string, ok: boolean, detail: string) => void steps.push({ step: name, at: new Date(now()).toISOString(), ok, detail });
  let pool: Pool | undefined;
  let secrets: SecretsClient | undefined;
  let bus: FleetBus | undefined;
  try {
    bus = fleetBusOf(o, io.env);
    const fleetBus = bus;
    const publish = io.publish ?? (fleetBus === undefined ? undefined : async (e: Parameters<IncidentPublisher>[0]) => void (await fleetBus.publish(e)));
    if (o.postgres !== undefined) pool = await openPgPool(o.postgres, `incident ${kind} --postgres`);
    const guarded = await guardedClientOptions({ identity: o.operator, policy: o.policy, 'audit-file': o['audit-file'], 'audit-key-file': o['audit-key-file'] }, io.env);
    const audit: AuditSink | undefined = guarded.audit !== undefined ? (guarded.audit as AuditSink) : pool !== undefined ? postgresAuditSink({ pool, hmacKey: hmacKey!, table }) : undefined;
    // Only a rotation needs the store; otherwise the client reads nothing (an empty env provider).
    const providers = kind === 'quarantine' && o.rotate === true ? [await openLocalStore({ env: environment, path: o.store, 'key-file': o['key-file'] }, io.env)] : [fromEnv({ env: {} })];
    secrets = createSecrets({ environment, providers, env: io.env, cache: false, ...guarded, ...(audit === undefined ? {} : { audit }) });

    // 1. The quarantine (or its lift), audited by this command's client.
    if (kind === 'quarantine') await secrets.quarantine(identity, { reason });
    else await secrets.lift(identity, { reason });
    step(kind, true, `identity ${identity} ${kind === 'quarantine' ? 'quarantined' : 'lifted'} in this process; recorded in ${auditWhere(o)}`);

    // 2. The fleet: the one place a bus would be told (src/incident/fleetHook.ts).
    let fleet: Awaited<ReturnType<typeof publishToFleet>>;
    try {
      fleet = await publishToFleet({ type: kind === 'quarantine' ? 'quarantined' : 'lifted', identity, reason }, publish);
      step('fleet', true, fleet.detail);
    } catch (err) {
      // The quarantine holds here and in the audit log; the other steps still run and the report says the fleet was not told.
      fleet = { published: false, detail: `publishing to the fleet bus failed (${errorCode(err)}): other processes were not told` };
      step('fleet', false, fleet.detail);
    }

    const sources: IncidentSource[] = [];
    const collector = new AccessCollector(identity, since ?? -Infinity, until);
    const rotated: IncidentRotation[] = [];
    const notRevoked: { ref: string; why: string }[] = [];
    if (kind === 'quarantine') {
      // 3. What the identity read, from every source, verified first when a key is at hand.
      for (const file of o.audit ?? []) sources.push(await readFileSource(file, hmacKey, collector));
      if (pool !== undefined) sources.push(await readTableSource(pool, o.postgres!, table, hmacKey, collector));
      const accessed = collector.accesses();
      const bad = sources.filter((s) => !s.ok);
      step('read-audit', bad.length === 0, sources.length === 0
        ? 'no audit source given (--audit FILE or --postgres URL): nothing to list'
        : `${sources.length} source(s) read, ${bad.length} invalid; ${accessed.length} secret(s) read by ${identity} since ${new Date(since!).toISOString()}`);

      // 4. Leases: the records show which refs were leased, not the lease ids.
      for (const ref of collector.leasedRefs()) {
        notRevoked.push({
          ref,
          why: 'audit records carry no lease id, so this command cannot revoke it; the identity\'s own processes revoke the leases of their handles when the quarantine reaches them, or revoke it in the provider',
        });
      }
      step('leases', true, notRevoked.length === 0 ? 'the audit records show no lease held by the identity' : `${notRevoked.length} leased secret(s) listed, none revoked by this command (no lease id in the audit records)`);

      // 5. Rotations, one by one; a refusal is recorded and the rest go on.
      if (o.rotate === true) {
        for (const a of accessed) {
          let r: Awaited<ReturnType<typeof secrets.rotate>>;
          try {
            r = await secrets.rotate(a.ref, { generate: { length } });
          } catch (err) {
            rotated.push({ ref: a.ref, ok: false, previousVersion: null, version: null, code: errorCode(err), detail: err instanceof Error ? err.message : 'failed' });
            continue;
          }
          // Every process on the bus drops the old value now, not at its cache's expiry. The
          // rotation stands either way; a failed publish is said beside it.
          let told: string | undefined;
          if (publish !== undefined) {
            try {
              await publish({ type: 'rotated', ref: r.ref, version: r.version ?? null });
              told = 'published to the fleet bus';
            } catch (err) {
              told = `rotated, but publishing to the fleet bus failed (${errorCode(err)}): other processes keep the old value until their cache expires`;
            }
          }
          rotated.push({ ref: r.ref, ok: true, previousVersion: r.previousVersion ?? null, version: r.version ?? null, ...(told === undefined ? {} : { detail: told }) });
        }
        const failed = rotated.filter((r) => !r.ok).length;
        const untold = rotated.filter((r) => r.ok && r.detail !== undefined && r.detail !== 'published to the fleet bus').length;
        step('rotate', failed === 0 && untold === 0, `${rotated.length - failed} of ${rotated.length} secret(s) rotated${untold === 0 ? '' : `; ${untold} not published to the fleet bus`}`);
      }
    }
    await secrets.close();
    secrets = undefined;

    const report: IncidentReport = {
      kind,
      identity,
      reason,
      environment,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(now()).toISOString(),
      window: since === undefined ? null : { since: new Date(since).toISOString(), until: new Date(until).toISOString() },
      steps,
      sources,
      accessed: collector.accesses(),
      leases: { revoked: [], notRevoked },
      rotated,
      fleet,
    };
    // The steps are printed before the report is written: they happened even if writing it fails.
    if (o.json !== true) for (const s of steps) io.stdout(`${s.at} ${s.ok ? 'ok' : 'FAILED'} ${s.step}: ${s.detail}\n`);
    const files = await writeIncidentReport(o.report ?? '.', report);
    if (o.json === true) io.stdout(JSON.stringify({ ...report, files }, null, 2) + '\n');
    else io.stdout(`report: ${files.markdown}\n        ${files.json}\n`);
    return steps.every((s) => s.ok) ? 0 : EXIT_FAILED;
  } finally {
    await secrets?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await bus?.close().catch(() => undefined);
  }
}

function auditWhere(o: Values): string {
  if (o['audit-file'] !== undefined) return `the audit log ${o['audit-file']}`;
  if (o.postgres !== undefined) return `the audit table at ${shownUrl(o.postgres)}`;
  return 'no audit log (none configured)';
}

async function readFileSource(file: string, hmacKey: string | undefined, collector: AccessCollector): Promise<IncidentSource> {
  let resumed: readonly number[] | undefined;
  if (hmacKey !== undefined) {
    // Writers may still be running (the identity's own, for one), or were killed: an open log is accepted.
    const v = await verifyAuditLog(file, { hmacKey, requireCheckpoint: false });
    if (!v.ok) return { source: file, verified: true, ok: false, detail: `does not verify at line ${v.firstInvalidLine}: ${v.reason}; not read` };
    resumed = v.resumedAt;
  }
  let refused: string | undefined;
  const end = await readLines(file, (bytes, n) => {
    const parsed = parseLine(bytes);
    if (typeof parsed === 'string') {
      refused = `line ${n}: ${parsed}`;
      return false;
    }
    collector.add(parsed.line);
    return true;
  });
  if (refused !== undefined || !end.done) return { source: file, verified: hmacKey !== undefined, ok: false, detail: `not an audit log (${refused ?? (end.done ? '' : `line ${end.line}: ${end.reason}`)})` };
  const sessions = resumed === undefined ? '' : `; ${resumed.length} session(s) never closed (resumed at line(s) ${resumed.join(', ')})`;
  return { source: file, verified: hmacKey !== undefined, ok: true, detail: hmacKey === undefined ? 'read without verification (no audit key given)' : `verified (open logs accepted) and read${sessions}` };
}

async function readTableSource(pool: Pool, url: string, table: string, hmacKey: string | undefined, collector: AccessCollector): Promise<IncidentSource> {
  const source = `${shownUrl(url)} table ${table}`;
  if (hmacKey !== undefined) {
    const v = await verifyPostgresAuditLog({ pool, hmacKey, table, requireCheckpoint: false });
    const bad = v.logs.find((l) => !l.ok);
    // The incident's own client may have created the table a moment ago: no rows is not tampering.
    if (v.reason !== undefined && !/holds no audit rows|does not exist/.test(v.reason)) return { source, verified: true, ok: false, detail: `${v.reason}; not read` };
    if (bad !== undefined) return { source, verified: true, ok: false, detail: `chain ${bad.logId} does not verify at row ${bad.firstInvalidLine}: ${bad.reason}; not read` };
    if (v.reason !== undefined) return { source, verified: true, ok: true, detail: v.reason };
  }
  let refused: string | undefined;
  await readAuditRows(pool, table, (bytes, where) => {
    const parsed = parseLine(bytes);
    if (typeof parsed === 'string') refused ??= `${where}: ${parsed}`;
    else collector.add(parsed.line);
  });
  if (refused !== undefined) return { source, verified: hmacKey !== undefined, ok: false, detail: `not an audit table (${refused})` };
  return { source, verified: hmacKey !== undefined, ok: true, detail: hmacKey === undefined ? 'read without verification (no audit key given)' : 'every chain verified (open chains accepted) and read' };
}

async function optionalKey(file: string | undefined, env: Record<string, string | undefined>): Promise<string | undefined> {
  if (file === undefined && !env[ENV_AUDIT_KEY_FILE] && !env[ENV_AUDIT_KEY]) return undefined;
  return auditKey(file, env);
}

function instant(text: string, now: number): number {
  if (/^\d{4}-/.test(text) && !Number.isNaN(Date.parse(text))) return Date.parse(text);
  try {
    return now - parseDuration(text);
  } catch {
    throw new UsageError('--since must be an ISO 8601 time or a duration such as 24h');
  }
}
