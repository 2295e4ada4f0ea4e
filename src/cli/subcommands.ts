import { isConnectorSecretsError } from '../errors.js';

/** A mistake in how a command was called. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Where a command writes. */
export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** One subcommand: its arguments after the subcommand name, and the exit code it returns. */
export type Subcommand<IO> = (args: string[], io: IO) => Promise<number>;

/**
 * Runs `connector-secrets <group> <subcommand> …`: help, unknown or missing subcommands, and
 * every error printed as `error [CODE]: message` with exit code 1. Our messages carry no values.
 */
export async function runSubcommands<IO extends CommandOutput>(
  group: string,
  argv: readonly string[],
  commands: Readonly<Record<string, Subcommand<IO>>>,
  usage: string,
  io: IO,
): Promise<number> {
  const [command, ...rest] = argv;
  const names = Object.keys(commands).join(', ');
  try {
    if (command === '-h' || command === '--help' || command === 'help') {
      io.stdout(usage);
      return 0;
    }
    if (command === undefined) throw new UsageError(`missing command (${names})`);
    const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (run === undefined) throw new UsageError(`unknown command; expected one of ${names}`);
    return await run(rest, io);
  } catch (err) {
    const code = err instanceof UsageError ? err.code : isConnectorSecretsError(err) ? err.code : codeOf(err);
    io.stderr(`error [${code}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr(`run "connector-secrets ${group} --help" for usage\n`);
    return 1;
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}
