#!/usr/bin/env node
// The `connector-secrets` command. Values are read from stdin only, never from argv.
import { runAuditCommand } from './audit.js';
import { runLocalCommand } from './local.js';

const HELP = `usage: connector-secrets <command> [options]

commands:
  local init --env <tag> [--path P] [--key-file K]   create an encrypted local store
  local set <name> [--owner O --purpose P ...]        store a value read from stdin
  local list [--json]                                 names and metadata, never values
  local rotate-key --new-key-file K                   re-encrypt the store under a new key
  audit verify FILE [--key-file K] [--anchor A]       check an audit log's MACs, chain and checkpoint;
                                                      with --anchor, that it was not cut back or swapped
  audit summary FILE [--since T] [--until T]          accesses, denials, failures per identity and ref

Run "connector-secrets local --help" or "connector-secrets audit --help" for details.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = {
    stdin: process.stdin,
    stdout: (s: string) => void process.stdout.write(s),
    stderr: (s: string) => void process.stderr.write(s),
    env: process.env,
  };
  switch (command) {
    case 'local':
      return runLocalCommand(rest, io);
    case 'audit':
      return runAuditCommand(rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.stdout(HELP + '\n');
      return 0;
    default:
      io.stderr(`unknown command "${command}"\n${HELP}\n`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
