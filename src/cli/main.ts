#!/usr/bin/env node
// The `connector-secrets` command. Values are read from stdin only, never from argv.
import { readFileSync } from 'node:fs';
import { runAuditCommand } from './audit.js';
import { runDoctorCommand } from './doctor.js';
import { runIncidentCommand } from './incident.js';
import { runInventoryCommand } from './inventory.js';
import { runLocalCommand } from './local.js';
import { runReportCommand } from './report.js';
import { runRotateCommand } from './rotate.js';
import { runRunCommand } from './run.js';
import { runScanCommand } from './scan.js';
import { EXIT_CODES_HELP, EXIT_USAGE } from './subcommands.js';

const HELP = `usage: connector-secrets <command> [options]

commands:
  run --env <tag> --map NAME=ref ... -- <command> [args...]
                                                      run a command with secrets in its environment, output redacted
  local init --env <tag> [--path P] [--key-file K]   create an encrypted local store
  local set <name> [--owner O --purpose P ...]        store a value read from stdin
  local list [--json]                                 names and metadata, never values
  local rotate-key --new-key-file K                   re-encrypt the store under a new key
  rotate <ref> --env <tag> [--generate N] [--verify -- <command>] [--json]
                                                      write a new version (generated, or from stdin), audited
  audit verify FILE [--key-file K] [--anchor A] [--json]
                                                      check an audit log's MACs, chain and checkpoint;
                                                      with --anchor, that it was not cut back or swapped
  audit summary FILE [--since T] [--until T] [--json] accesses, denials, failures per identity and ref
  audit verify|summary --postgres URL [--table T]     the same for a postgresAuditSink table, per chain
  incident quarantine --identity <id> --reason R --env <tag> [--since 24h] [--rotate] [--report DIR]
                      [--audit FILE|--postgres URL]   quarantine an identity, list what it read, rotate, report
  incident lift --identity <id> --reason R --env <tag> lift the quarantine, audited
  inventory --env <tag> [--json|--csv] [--fail-on L]  every declared secret with owner, rotation status, expiry,
                                                      and where it resolves (from connector-secrets.config.{json,yaml})
  doctor --env <tag> [--json]                         check providers, clock skew, store/key permissions, audit log,
                                                      policy, refs
  report FILE... --out report.html [--key-file K] [--since T] [--until T] [--config C]
                                                      a self-contained HTML dashboard of audit logs (no script, no
                                                      network); exit 1 when a log fails verification
  scan [paths...] [--format text|json|sarif] [--baseline F] [--known --env <tag>]
                                                      find credentials in code, configuration and logs
                                                      (exit 1 on findings not in the baseline)

options:
  --version      print the version
  -h, --help     show this help

Run "connector-secrets <command> --help" for details and the --json output shapes.

${EXIT_CODES_HELP}`;

/** The package's version, read from the package.json beside dist/ (or src/ when run from source). */
function version(): string {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = {
    stdin: process.stdin,
    stdout: (s: string) => void process.stdout.write(s),
    stderr: (s: string) => void process.stderr.write(s),
    env: process.env,
  };
  switch (command) {
    case 'run':
      return runRunCommand(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process });
    case 'local':
      return runLocalCommand(rest, io);
    case 'audit':
      return runAuditCommand(rest, io);
    case 'rotate':
      return runRotateCommand(rest, io);
    case 'incident':
      return runIncidentCommand(rest, io);
    case 'doctor':
      return runDoctorCommand(rest, { ...io, cwd: process.cwd() });
    case 'inventory':
      return runInventoryCommand(rest, { ...io, cwd: process.cwd(), now: Date.now });
    case 'report':
      return runReportCommand(rest, { ...io, cwd: process.cwd() });
    case 'scan':
      return runScanCommand(rest, { ...io, cwd: process.cwd(), stderrIsTTY: process.stderr.isTTY === true, version: version() });
    case '--version':
    case '-V':
      io.stdout(`${version()}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.stdout(HELP);
      return 0;
    default:
      io.stderr(`error [USAGE]: unknown command; expected run, local, rotate, audit, incident, inventory, doctor, report or scan
${HELP}`);
      return EXIT_USAGE;
  }
}

process.exitCode = await main(process.argv.slice(2));
