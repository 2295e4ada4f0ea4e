import { readFile } from 'node:fs/promises';
import type { Pool } from 'pg';
import { DEFAULT_AUDIT_TABLE } from '../audit/pgTable.js';
import { readAuditRows } from '../audit/readAuditRows.js';
import { verifyAuditLog } from '../audit/verifyAuditLog.js';
import { verifyPostgresAuditLog, type PostgresAuditVerification } from '../audit/verifyPostgresAuditLog.js';
import { openPgPool, shownUrl } from './pgPool.js';
import { parseDuration } from '../duration.js';
import { ConfigError } from '../errors.js';
import { summarizeAuditLines, summarizeAuditLog, type AuditSummary } from './auditSummary.js';
import { EXIT_CODES_HELP, EXIT_FAILED, parseFlags, runSubcommands, UsageError } from './subcommands.js';

/**
 * What `connector-secrets audit` reads and writes. Tests pass their own; the command passes the
 * process's.
 *
 * @example
 * ```ts
 * const io: AuditCommandIo = {
 *   stdout: (s) => void process.stdout.write(s),
 *   stderr: (s) => void process.stderr.write(s),
 *   env: process.env,
 * };
 * ```
 */
export interface AuditCommandIo {
  /** Writes to standard output (the text carries its own newlines). */
  readonly stdout: (s: string) => void;
  /** Writes to standard error (the text carries its own newlines). */
  readonly stderr: (s: string) => void;
  /** Environment variables (`CONNECTOR_SECRETS_AUDIT_KEY_FILE`, `CONNECTOR_SECRETS_AUDIT_KEY`). */
  readonly env: Record<string, string | undefined>;
  /**
   * The clock relative `--since`/`--until` durations count back from, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** Environment variable naming the audit HMAC key file. */
export const ENV_AUDIT_KEY_FILE = 'CONNECTOR_SECRETS_AUDIT_KEY_FILE';
/** Environment variable holding the audit HMAC key itself. */
export const ENV_AUDIT_KEY = 'CONNECTOR_SECRETS_AUDIT_KEY';

const USAGE = `usage: connector-secrets audit <command> FILE [options]
       connector-secrets audit <command> --postgres URL [--table T] [options]

commands:
  verify FILE [--key-file K] [--allow-open] [--anchor A] [--identity I] [--environment E] [--json]
      Check that every line is exactly the bytes fileAuditSink writes and the MAC of its
      write covers them (the first line of a write that fails is the one named), the prev chain, the sequence numbers, the log id, that every checkpoint names the
      log's identity and environment, and the closing checkpoint. Exit code 0 when the log is intact;
      1 when it is not, after printing the number of the first bad line and why
      (never its content).
      A session that never closed (its writer killed) is counted by the "resumed" marker
      the next writer puts first; verify names those lines.
      --json: {"file": path, "ok": true, "count": n, "resumedAt"?: [line, ...]}
           or {"file": path, "ok": false, "count": n, "firstInvalidLine": n, "reason": text}
  verify --postgres URL [--table T] [--key-file K] [--allow-open] [--json]
      Verify every chain of a postgresAuditSink table the same way, one result per chain
      (log id). --allow-open accepts chains without a closing checkpoint (writers still
      running, or killed: their rows up to the last INSERT verify).
      --json: {"postgres": url (no credentials), "table", "ok", "count", "reason"?,
               "logs": [{"logId", "ok", "count", "closed", "identity", "environment",
                         "firstInvalidLine"?, "reason"?}]}
  summary FILE [--since T] [--until T] [--json] [--key-file K] [--allow-open] [--anchor A]
      Accesses, denials and failures per identity and ref, and rotations, for records
      with since <= ts < until. A cache-hit summary counts as its hits, at the time of
      its last one. T is an ISO 8601 time, or a duration (24h, 7d) meaning that long
      ago. With a key the log is verified first, and a tampered log is refused.
      --json: {"file", "verified": boolean, "range": {"since", "until"}, "events", "first", "last",
               "totals": {"accesses", "denials", "failures", "rotations", "anomalies"},
               "rows": [{"identity", "ref", "accesses", "served", "cacheHits", "denials", "failures",
                         "rotations", "anomalies", "denialCodes", "failureCodes"}]}
  summary --postgres URL [--table T] [--since T] [--until T] [--json] [--key-file K] [--allow-open]
      The same over every chain of the table ("file" is then "postgres:<table>").

options:
  --key-file <file>  the HMAC key: the file's text, one trailing newline dropped, exactly
                     as passed to fileAuditSink({ hmacKey }) (default ${'$'}${ENV_AUDIT_KEY_FILE},
                     else the key itself in ${'$'}${ENV_AUDIT_KEY})
  --allow-open       accept a log without a closing checkpoint (its writer is still running)
  --anchor <file>    the anchor file of fileAuditSink({ anchor }): every checkpoint it records
                     must be in the log, so a log cut back to an earlier checkpoint or swapped
                     for another log fails
  --postgres <url>   read a postgresAuditSink table instead of a FILE (needs the pg package)
  --table <name>     the table (default connector_secrets_audit)
  --identity <id>    the identity the log must belong to
  --environment <e>  the environment the log must belong to
  --json             print the result as JSON (shapes above)
  -h, --help         show this help

examples:
  connector-secrets audit verify audit/orders-sync.jsonl --key-file /run/keys/audit.key
  connector-secrets audit verify --postgres postgres://auditor@db:5432/ops --allow-open --json
  connector-secrets audit summary --postgres postgres://auditor@db:5432/ops --since 24h

${EXIT_CODES_HELP}`;

const OPTIONS = {
  'key-file': { type: 'string' },
  'allow-open': { type: 'boolean' },
  anchor: { type: 'string' },
  postgres: { type: 'string' },
  table: { type: 'string' },
  identity: { type: 'string' },
  environment: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs `connector-secrets audit <argv…>` and returns the exit code: 0 when the log verifies (or
 * the summary was printed), 1 when it does not, 2 on a usage or configuration error, with the
 * reason on stderr.
 *
 * @param argv - The arguments after `audit`, e.g. `['verify', 'audit.jsonl', '--key-file', 'audit.key']`.
 * @param io - Standard streams and environment variables.
 *
 * @example
 * ```ts
 * process.exitCode = await runAuditCommand(['verify', 'audit.jsonl'], {
 *   stdout: (s) => void process.stdout.write(s),
 *   stderr: (s) => void process.stderr.write(s),
 *   env: process.env,
 * });
 * ```
 */
export async function runAuditCommand(argv: string[], io: AuditCommandIo): Promise<number> {
  return runSubcommands('audit', argv, { verify: verifyCommand, summary: summaryCommand }, USAGE, io);
}

async function verifyCommand(args: string[], io: AuditCommandIo): Promise<number> {
  const { values, file } = parse(args, 'verify');
  if (values.help) return help(io);
  // Accepted by the shared option table, but meaningless here: refuse rather than ignore them.
  if (values.since !== undefined || values.until !== undefined) throw new UsageError('--since and --until belong to audit summary; verify checks the whole log');
  const hmacKey = await keyOf(values['key-file'], io, true);
  if (values.postgres !== undefined) return verifyPostgres(values, hmacKey!, io);
  const result = await verifyAuditLog(file, { hmacKey: hmacKey!, ...verifyOptions(values) });
  if (values.json) {
    io.stdout(
      JSON.stringify(
        result.ok
          ? { file, ok: true, count: result.count, ...(result.resumedAt === undefined ? {} : { resumedAt: result.resumedAt }) }
          : { file, ok: false, count: result.count, firstInvalidLine: result.firstInvalidLine, reason: result.reason },
      ) + '\n',
    );
    return result.ok ? 0 : EXIT_FAILED;
  }
  if (result.ok) {
    io.stdout(`ok: ${file}: ${result.count} events verified\n`);
    if (result.resumedAt !== undefined) {
      io.stdout(`note: ${result.resumedAt.length} session(s) ended without closing (killed or crashed); the next writer counted their records at line(s) ${result.resumedAt.join(', ')}\n`);
    }
    return 0;
  }
  // Line number and reason only: FILE may be anything (a key file passed by mistake, a .env file),
  // so no byte of it is printed.
  io.stdout(`INVALID: ${file}: line ${result.firstInvalidLine}: ${result.reason}\n`);
  io.stdout(`${result.count} events verified before it\n`);
  return 1;
}

/** `audit verify --postgres`: every chain of the table, one line each. */
async function verifyPostgres(values: Values, hmacKey: string, io: AuditCommandIo): Promise<number> {
  const url = values.postgres!;
  const table = values.table ?? DEFAULT_AUDIT_TABLE;
  const pool = await openPgPool(url, 'audit verify --postgres');
  let result: PostgresAuditVerification;
  try {
    result = await verifyPostgresAuditLog({ pool, hmacKey, table, requireCheckpoint: values['allow-open'] !== true });
  } finally {
    await pool.end();
  }
  if (values.json) {
    io.stdout(JSON.stringify({ postgres: shownUrl(url), table, ok: result.ok, count: result.count, ...(result.reason === undefined ? {} : { reason: result.reason }), logs: result.logs }) + '\n');
    return result.ok ? 0 : EXIT_FAILED;
  }
  const where = `${shownUrl(url)} table ${table}`;
  if (result.reason !== undefined) {
    io.stdout(`INVALID: ${where}: ${result.reason}\n`);
    return EXIT_FAILED;
  }
  for (const log of result.logs) {
    const who = `${printable(log.identity ?? '-')}@${printable(log.environment ?? '-')}`;
    if (log.ok) io.stdout(`ok: chain ${log.logId} (${who}): ${log.count} events verified${log.closed ? '' : ' (open: no closing checkpoint)'}\n`);
    else io.stdout(`INVALID: chain ${log.logId} (${who}): row ${log.firstInvalidLine}: ${log.reason} (${log.count} events verified before it)\n`);
  }
  const bad = result.logs.filter((l) => !l.ok).length;
  io.stdout(`${result.ok ? 'ok' : 'INVALID'}: ${where}: ${result.logs.length} chain(s), ${bad} invalid, ${result.count} events verified\n`);
  return result.ok ? 0 : EXIT_FAILED;
}


async function summaryCommand(args: string[], io: AuditCommandIo): Promise<number> {
  const { values, file } = parse(args, 'summary');
  if (values.help) return help(io);
  const now = (io.now ?? Date.now)();
  const since = values.since === undefined ? -Infinity : instant(values.since, now, '--since');
  const until = values.until === undefined ? Infinity : instant(values.until, now, '--until');
  const hmacKey = await keyOf(values['key-file'], io, false);
  const pg = values.postgres;
  const pgTable = values.table ?? DEFAULT_AUDIT_TABLE;
  const source = pg === undefined ? file : `postgres:${pgTable}`;
  const pool = pg === undefined ? undefined : await openPgPool(pg, 'audit summary --postgres');
  let summary: AuditSummary;
  try {
    if (hmacKey !== undefined) {
      const result = pool === undefined ? await verifyFile(file, hmacKey, values) : await verifyTable(pool, pgTable, hmacKey, values);
      if (!result.ok) {
        io.stderr(`error [AUDIT_INVALID]: ${source} does not verify (${result.where}: ${result.reason}); no summary\n`);
        return 1;
      }
    } else {
      if (values.anchor !== undefined || values.identity !== undefined || values.environment !== undefined) {
        throw new UsageError('--anchor, --identity and --environment check a verified log: pass --key-file too');
      }
      io.stderr(`note: ${source} was not verified (pass --key-file to verify it first)\n`);
    }
    summary =
      pool === undefined
        ? await summarizeAuditLog(file, since, until)
        : await summarizeAuditLines((onLine) => readAuditRows(pool, pgTable, (bytes, where) => onLine(bytes, `${source} ${where}`)), since, until);
  } finally {
    await pool?.end();
  }
  const { events, first, last, totals, rows: sorted } = summary;

  const range = {
    since: Number.isFinite(since) ? new Date(since).toISOString() : null,
    until: Number.isFinite(until) ? new Date(until).toISOString() : null,
  };
  if (values.json) {
    io.stdout(JSON.stringify({ file: source, verified: hmacKey !== undefined, range, events, first, last, totals, rows: sorted }, null, 2) + '\n');
    return 0;
  }
  io.stdout(`${source}: ${events} events${first === null ? '' : ` from ${first} to ${last}`}${hmacKey === undefined ? ' (not verified)' : ' (verified)'}\n`);
  if (range.since !== null || range.until !== null) io.stdout(`range: ${range.since ?? '-'} .. ${range.until ?? '-'}\n`);
  const header = ['identity', 'ref', 'accesses', 'served', 'cache', 'denied', 'failed', 'rotations', 'anomalies'];
  const table = [
    header,
    ...sorted.map((r) => [r.identity, r.ref, r.accesses, r.served, r.cacheHits, r.denials, r.failures, r.rotations, r.anomalies].map(String)),
  ].map((cells) => cells.map(printable));
  const widths = header.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
  for (const cells of table) io.stdout(cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd() + '\n');
  io.stdout(`total: ${totals.accesses} accesses, ${totals.denials} denied, ${totals.failures} failed, ${totals.rotations} rotations, ${totals.anomalies} anomalies\n`);
  for (const r of sorted) {
    const codes = [...Object.entries(r.denialCodes), ...Object.entries(r.failureCodes)].map(([c, n]) => `${c} x${n}`);
    if (codes.length > 0) io.stdout(`  ${printable(r.identity)} ${printable(r.ref)}: ${codes.join(', ')}\n`);
  }
  return 0;
}


type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>['values'];

function parse(args: string[], command: string): { values: Values; file: string } {
  const { values, positionals } = parseFlags(args, OPTIONS);
  if (values.help) return { values, file: '' };
  if (values.postgres !== undefined) {
    if (positionals.length !== 0) throw new UsageError(`${command} takes either FILE or --postgres URL, not both`);
    if (values.anchor !== undefined || values.identity !== undefined || values.environment !== undefined) {
      throw new UsageError('--anchor, --identity and --environment check one file log; with --postgres every chain is checked (see the per-chain identity in the output)');
    }
    return { values, file: '' };
  }
  if (values.table !== undefined) throw new UsageError('--table goes with --postgres URL');
  if (positionals.length !== 1) throw new UsageError(`${command} needs exactly one FILE (or --postgres URL)`);
  return { values, file: positionals[0]! };
}

/** Verifies the file log, as the summary's precondition: the first bad line. */
async function verifyFile(file: string, hmacKey: string, values: Values): Promise<{ ok: boolean; where?: string; reason?: string }> {
  const result = await verifyAuditLog(file, { hmacKey, ...verifyOptions(values) });
  return result.ok ? { ok: true } : { ok: false, where: `line ${result.firstInvalidLine}`, reason: result.reason! };
}

/** Verifies every chain of the table, as the summary's precondition: the first bad chain and row. */
async function verifyTable(pool: Pool, table: string, hmacKey: string, values: Values): Promise<{ ok: boolean; where?: string; reason?: string }> {
  const result = await verifyPostgresAuditLog({ pool, hmacKey, table, requireCheckpoint: values['allow-open'] !== true });
  if (result.reason !== undefined) return { ok: false, where: `table ${table}`, reason: result.reason };
  const bad = result.logs.find((l) => !l.ok);
  return bad === undefined ? { ok: true } : { ok: false, where: `chain ${bad.logId} row ${bad.firstInvalidLine}`, reason: bad.reason! };
}

function verifyOptions(values: Values) {
  return {
    requireCheckpoint: values['allow-open'] !== true,
    ...(values.anchor === undefined ? {} : { anchor: values.anchor }),
    ...(values.identity === undefined ? {} : { identity: values.identity }),
    ...(values.environment === undefined ? {} : { environment: values.environment }),
  };
}

function help(io: AuditCommandIo): number {
  io.stdout(USAGE);
  return 0;
}

export async function keyOf(keyFile: string | undefined, io: AuditCommandIo, required: boolean): Promise<string | undefined> {
  const file = keyFile ?? (io.env[ENV_AUDIT_KEY_FILE] || undefined);
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`the audit key file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return text.replace(/\r?\n$/, '');
  }
  const inline = io.env[ENV_AUDIT_KEY];
  if (inline !== undefined && inline !== '') return inline;
  if (required) throw new UsageError(`no HMAC key: pass --key-file K, or set ${ENV_AUDIT_KEY_FILE} or ${ENV_AUDIT_KEY}`);
  return undefined;
}

export function instant(text: string, now: number, flag: string): number {
  const iso = Date.parse(text);
  if (!Number.isNaN(iso) && /^\d{4}-/.test(text)) return iso;
  try {
    return now - parseDuration(text);
  } catch {
    throw new UsageError(`${flag} must be an ISO 8601 time or a duration such as 24h`);
  }
}

/** Escapes control characters (an attacker may have written the line) and shortens long text. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > 400 ? `${safe.slice(0, 400)}… (${safe.length} characters)` : safe;
}

