#!/usr/bin/env node
// The `connector-secrets` command. Values are read from stdin only, never from argv.
import { runLocalCommand } from './local.js';

const HELP = `usage: connector-secrets <command> [options]

commands:
  local init --env <tag> [--path P] [--key-file K]   create an encrypted local store
  local set <name> [--owner O --purpose P ...]        store a value read from stdin
  local list [--json]                                 names and metadata, never values
  local rotate-key --new-key-file K                   re-encrypt the store under a new key

Run "connector-secrets local --help" for details.`;

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
