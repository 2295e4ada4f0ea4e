import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';
import { instant, keyOf } from './audit.js';
import { refFor } from '../manifest.js';
import { loadConfig, loadManifests } from './config.js';
import type { Pool } from 'pg';
import { DEFAULT_AUDIT_TABLE } from '../audit/pgTable.js';
import { readAuditRows } from '../audit/readAuditRows.js';
import { verifyPostgresAuditLog } from '../audit/verifyPostgresAuditLog.js';
import { openPgPool, shownUrl } from './pgPool.js';
import { auditKey, buildReport, fileSource, type Cadence, type ReportSource } from './reportData.js';
import { renderReport } from './reportHtml.js';
import { EXIT_FAILED, errorCode, errorExitCode, parseFlags, UsageError, type CommandOutput } from './subcommands.js';

/** What `connector-secrets report` reads and writes. */
export interface ReportIo extends CommandOutput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The clock of "time since last rotation" and of relative `--since`/`--until`, epoch ms. @default Date.now */
  readonly now?: () => number;
}

const USAGE = `usage: connector-secrets report [FILE...] [--postgres URL [--table T]] --out report.html [options]

Writes one self-contained HTML dashboard of one or more audit logs: inline CSS and SVG charts, no
script, no network request (open it from disk, attach it to a ticket, keep it as a CI artifact).
Panels: totals; the chain verification of each log; accesses over time per identity and per ref;
rotations per secret with the time since the last one (against the declared cadence with
--config); denied and failed attempts by code and by rule; anomalies; and each log's summary.
The numbers of each log are those of "connector-secrets audit summary FILE --json" for the same
range and key. With a key, every log is verified first; a log that fails is shown as FAILED and
its records are not counted.

options:
  --out FILE         where to write the page (required; written whole, then renamed into place)
  --key-file K       the audit HMAC key (default ${'$'}CONNECTOR_SECRETS_AUDIT_KEY_FILE, else
                     ${'$'}CONNECTOR_SECRETS_AUDIT_KEY); without one the logs are not verified
  --allow-open       accept logs without a closing checkpoint (their writers are still running)
  --postgres URL     also report a postgresAuditSink table (all its chains as one log, verified
                     chain by chain; its numbers are those of "audit summary --postgres URL")
  --table T          the table of --postgres (default connector_secrets_audit)
  --since T          count records at or after T (ISO 8601, or a duration such as 7d meaning that long ago)
  --until T          count records before T
  --config FILE      a connector-secrets.config.{json,yaml,yml,mjs} whose manifests give rotation cadences
  --title TEXT       the page title (default "connector-secrets audit report")
  -h, --help         show this help

examples:
  connector-secrets report /var/log/orders-sync/audit-*.jsonl --out report.html --key-file audit.key
  connector-secrets report audit.jsonl --since 7d --out last-week.html --config connector-secrets.config.yaml
  connector-secrets report --postgres postgres://audit@db.internal/ops --key-file audit.key --out fleet.html

exit codes:
  0  the report was written and every log verified (or no key was given)
  1  the report was written, but a log failed verification or is not an audit log
  2  usage or configuration error (no --out, a missing log, unreadable key or configuration)
`;

const OPTIONS = {
  out: { type: 'string' },
  'key-file': { type: 'string' },
  'allow-open': { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  config: { type: 'string' },
  postgres: { type: 'string' },
  table: { type: 'string' },
  title: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs `connector-secrets report <argv…>` and resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runReportCommand(['audit.jsonl', '--out', 'report.html'], { stdout, stderr, env: process.env, cwd: process.cwd() });
 * ```
 */
export async function runReportCommand(argv: string[], io: ReportIo): Promise<number> {
  try {
    const { values: o, positionals: files } = parseFlags(argv, OPTIONS);
    if (o.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    if (files.length === 0 && o.postgres === undefined) throw new UsageError('report needs at least one audit log FILE, or --postgres URL');
    if (o.table !== undefined && o.postgres === undefined) throw new UsageError('--table names a table of --postgres: pass --postgres URL too');
    if (o.out === undefined || o.out === '') throw new UsageError('report needs --out FILE for the HTML page');
    // The page must never replace the evidence it reports on.
    if (files.some((f) => resolvePath(io.cwd, f) === resolvePath(io.cwd, o.out!))) throw new UsageError('--out names one of the audit logs; write the page elsewhere');
    // A log that is not there is a mistake in the command line (exit 2), not a finding about a log.
    for (const file of files) {
      const info = await stat(file).catch((err: NodeJS.ErrnoException) => err.code ?? 'error');
      if (typeof info === 'string' || !info.isFile()) throw new ConfigError(`the audit log ${file} cannot be read (${typeof info === 'string' ? info : 'not a file'})`);
    }
    const now = (io.now ?? Date.now)();
    const since = o.since === undefined ? -Infinity : instant(o.since, now, '--since');
    const until = o.until === undefined ? Infinity : instant(o.until, now, '--until');
    const hmacKey = await keyOf(o['key-file'], io, false);
    const cadences = o.config === undefined ? [] : await cadencesOf(o.config, io.cwd);
    const pool = o.postgres === undefined ? undefined : await openPgPool(o.postgres, 'report --postgres');
    let data: Awaited<ReturnType<typeof buildReport>>;
    try {
      const sources = [...files.map(fileSource), ...(pool === undefined ? [] : [postgresSource(pool, o.postgres!, o.table ?? DEFAULT_AUDIT_TABLE)])];
      data = await buildReport(sources, {
        since,
        until,
        now,
        ...(hmacKey === undefined ? {} : { hmacKey }),
        verify: { requireCheckpoint: o['allow-open'] !== true },
        cadences,
      });
    } finally {
      await pool?.end();
    }
    const html = renderReport(data, o.title ?? 'connector-secrets audit report');
    await writeWhole(o.out, html);
    const invalid = data.logs.filter((l) => l.status === 'invalid');
    io.stdout(
      `wrote ${o.out}: ${data.logs.length} log(s), ${data.totals.events} events, ${data.totals.accesses} accesses, ${data.totals.denials} denied, ${data.totals.failures} failed, ${data.totals.rotations} rotations, ${data.totals.anomalies} anomalies${hmacKey === undefined ? ' (not verified)' : ''}\n`,
    );
    if (hmacKey === undefined) io.stderr('note: the logs were not verified (pass --key-file to verify them first)\n');
    // Line number and reason only, never a byte of the log (as audit verify).
    for (const l of invalid) io.stdout(`INVALID: ${l.file}: line ${l.firstInvalidLine ?? '?'}: ${l.reason ?? 'does not verify'} (not counted)\n`);
    return invalid.length > 0 ? EXIT_FAILED : 0;
  } catch (err) {
    io.stderr(`error [${errorCode(err)}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr('run "connector-secrets report --help" for usage\n');
    return errorExitCode(err);
  }
}

/** The declared cadences of the configuration's manifests, keyed by each environment's audit ref. */
async function cadencesOf(config: string, cwd: string): Promise<Cadence[]> {
  const loaded = await loadConfig(config, cwd);
  const out: Cadence[] = [];
  for (const { manifest } of await loadManifests(loaded)) {
    for (const entry of manifest.inventory()) {
      if (entry.rotation === undefined || entry.rotationMs === undefined) continue;
      const spec = manifest.specs[entry.name]!;
      for (const environment of loaded.config.environments) {
        const ref = auditKey(refFor(spec, environment));
        if (ref !== null && !out.some((c) => c.ref === ref)) out.push({ ref, name: entry.name, rotation: entry.rotation, rotationMs: entry.rotationMs });
      }
    }
  }
  return out;
}

/** Written beside the target and renamed over it, so a reader never sees half a page. */
async function writeWhole(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ConfigError(`--out ${path} cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Every chain of a `postgresAuditSink` table, as one log of the report (verified chain by chain). */
function postgresSource(pool: Pool, url: string, table: string): ReportSource {
  const name = `${shownUrl(url)} table ${table}`;
  return {
    name,
    async verify(hmacKey, options) {
      const r = await verifyPostgresAuditLog({ pool, hmacKey, table, requireCheckpoint: options.requireCheckpoint ?? true });
      if (r.ok) return { ok: true, count: r.count };
      const bad = r.logs.find((l) => !l.ok);
      if (bad === undefined) return { ok: false, count: r.count, reason: r.reason ?? 'does not verify' };
      return { ok: false, count: r.count, ...(bad.firstInvalidLine === undefined ? {} : { firstInvalidLine: bad.firstInvalidLine }), reason: `chain ${bad.logId}: ${bad.reason ?? 'does not verify'}` };
    },
    read: (onLine) => readAuditRows(pool, table, (bytes, where) => onLine(bytes, `${name} ${where}`)),
  };
}
