import { SecretNotFoundError } from '../errors.js';
import type { ResolveContext, SecretProvider } from '../provider.js';
import { envName } from '../ref/envName.js';
import { formatRef, type RefParts } from '../ref/formatRef.js';
import { LOGICAL_SCHEME, type SecretRef } from '../ref/types.js';

/**
 * Options of {@link fromEnv}.
 *
 * @example
 * ```ts
 * fromEnv({ prefix: 'ETL_' }); // secret://orders-db/password → ETL_ORDERS_DB_PASSWORD
 * ```
 */
export interface FromEnvInit {
  /**
   * Prepended to the variable name of logical refs.
   * @default ''
   */
  readonly prefix?: string;
  /**
   * The variables to read. By default, the environment the client passes (its `env` option,
   * or `process.env`), read at each call.
   * @default the client's environment
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The provider name shown in errors and on `Secret.provider`.
   * @default 'env'
   */
  readonly name?: string;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
}

/**
 * Reads secrets from environment variables: `env://NAME` reads `NAME`; a logical ref
 * `secret://orders-db/password` reads `ORDERS_DB_PASSWORD` (upper-cased, every other
 * character an underscore, after the prefix). An unset or empty variable is not found.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({ environment: 'dev', providers: [fromEnv({ prefix: 'ETL_' })] });
 * await secrets.get('env://ORDERS_API_TOKEN');
 * await secrets.get('secret://orders-db/password'); // reads ETL_ORDERS_DB_PASSWORD
 * ```
 */
export function fromEnv(init: FromEnvInit = {}): SecretProvider {
  const name = init.name ?? 'env';
  const prefix = init.prefix ?? '';
  const read = (ref: SecretRef, ctx: ResolveContext): string => {
    const variable = ref.logical ? prefix + envName(ref.segments) : ref.path;
    const value = (init.env ?? ctx.env)[variable];
    if (value === undefined || value === '') {
      throw new SecretNotFoundError(`environment variable ${variable} is not set`, { ref: String(ref), provider: name });
    }
    return value;
  };
  return {
    name,
    schemes: ['env'],
    logical: true,
    ...(init.environment === undefined ? {} : { environment: init.environment }),
    // A logical ref and `env://<its variable>` read one variable; so does every logical spelling
    // that envName maps to it, which deny globs cover through their folded form.
    aliases(ref) {
      if (ref.logical) return [formatRef(single('env', prefix + envName(ref.segments)))];
      const rest = ref.path.startsWith(prefix) ? ref.path.slice(prefix.length) : '';
      return rest === '' ? [] : [formatRef(single(LOGICAL_SCHEME, rest))];
    },
    async resolve(ref, ctx) {
      return { value: read(ref, ctx) };
    },
    // A variable has no version, dates or labels: the only fact is that it is set.
    async describe(ref, ctx) {
      read(ref, ctx);
      return {};
    },
  };
}

/** The parts of a one-segment ref. */
function single(scheme: string, name: string): RefParts {
  return { scheme, path: name, segments: [name], params: {} };
}
