import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isConnectorSecretsError } from '../errors.js';

/** A mistake in how a command was called. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Exit code: a check failed (verification, findings, a denied or unresolvable ref). */
export const EXIT_FAILED = 1;
/** Exit code: the command was called wrongly or its configuration is unusable. */
export const EXIT_USAGE = 2;

/** The exit-code lines every command's `--help` ends with. */
export const EXIT_CODES_HELP = `exit codes:
  0  ok
  1  check failed: verification failed, findings, a denied or unresolvable secret, a store error
  2  usage or configuration error (unknown option, missing argument, unreadable key or file)
`;

/** Codes that mean "called or configured wrongly" rather than "the check ran and failed". */
const USAGE_CODES = new Set(['USAGE', 'CONFIG_INVALID', 'INVALID_REF']);

/** The exit code for an error a command ends with: 2 for usage and configuration errors, else 1. */
export function errorExitCode(err: unknown): number {
  return USAGE_CODES.has(errorCode(err)) ? EXIT_USAGE : EXIT_FAILED;
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
 * every error printed as `error [CODE]: message` with exit code 2 for usage and configuration
 * errors, else 1. Our messages carry no values.
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
    io.stderr(`error [${errorCode(err)}]: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) io.stderr(`run "connector-secrets ${group} --help" for usage\n`);
    return errorExitCode(err);
  }
}

/** `parseArgs` whose errors are UsageErrors naming the option, never an `=value` part (it may be a secret). */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(unknownOption(err, args));
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError('an option is missing its value or got one it does not take');
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError('unexpected argument');
    throw new UsageError('invalid arguments');
  }
}

/** What looks like an option someone typed: `--words-like-this`, or one letter after `-`. */
const OPTION_NAME = /^(--[a-z]+(-[a-z]+){0,4}|-[a-zA-Z])$/;

/**
 * The message for an unknown option. Node names the option it stopped at, never an `=value`
 * part; but a secret pasted as an argument can itself start with `-` (`-Yx7…` is read as the
 * short options -Y, -x, …; `--x7Hk…` as one long option), so the option is named only when it
 * was typed as a token of its own (`--name` or `--name=…`, or `-x` alone) in the shape of an
 * option name, and is otherwise not shown.
 */
function unknownOption(err: unknown, args: readonly string[]): string {
  const named = err instanceof Error ? /'(-[^']*)'/.exec(err.message)?.[1] : undefined;
  const typed = named !== undefined && args.some((a) => a === named || (named.startsWith('--') && a.startsWith(`${named}=`)));
  if (named !== undefined && typed && named.length <= 40 && OPTION_NAME.test(named)) return `Unknown option '${named}'`;
  return 'an unknown option (not shown: it does not look like an option name, and may be a pasted value)';
}

/** The stable code an error is printed with. */
export function errorCode(err: unknown): string {
  if (err instanceof UsageError) return err.code;
  if (isConnectorSecretsError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}
