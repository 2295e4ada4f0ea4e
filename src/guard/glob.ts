import { ConfigError, InvalidSecretRefError } from '../errors.js';
import { envName, envPiece } from '../ref/envName.js';
import { formatRef } from '../ref/formatRef.js';
import { parseRef } from '../ref/parseRef.js';
import { LOGICAL_SCHEME, type SecretRef } from '../ref/types.js';

/**
 * A compiled ref glob. Globs are matched against the canonical `scheme://path` of a ref (params
 * and `#field` are not part of it), and the glob itself is canonicalised the same way, so
 * `SECRET://Orders%2Ddb/*` and `secret://Orders-db/*` are the same glob.
 */
export interface RefGlob {
  /** The glob as written. */
  readonly source: string;
  /** The canonical form it is matched in. */
  readonly canonical: string;
  /** True when the canonical `scheme://path` of a ref matches. */
  test(target: string): boolean;
  /**
   * Deny globs only: true when a logical ref whose {@link foldTarget} is `folded` reads a name
   * the glob covers, as a provider that maps names (environment variables) reads it.
   */
  testFolded(folded: string): boolean;
}

const ANY_SCHEME = '*://';

/**
 * The string globs are matched against: the canonical `scheme://path` of a ref, without params
 * and `#field`. Two refs naming the same secret with different case in the scheme or different
 * percent-encoding give the same target.
 *
 * @example
 * ```ts
 * globTarget(parseRef('SECRET://orders%2Ddb/password?version=2#user')); // 'secret://orders-db/password'
 * ```
 */
export function globTarget(ref: SecretRef): string {
  return formatRef({ scheme: ref.scheme, path: ref.path, segments: ref.segments, params: {} });
}

/**
 * Compiles a ref glob: `*` matches within one path segment, `**` across segments, and a scheme
 * of `*` (`*://…`) matches any scheme. The glob is parsed like a ref (so `..`, encoded `/` and
 * control characters are rejected) and put in canonical form before it is compiled.
 *
 * @param caseInsensitive - Deny globs: match regardless of letter case, and for `secret://` (or
 * `*://`) globs also match every logical ref that reads an environment variable name the glob
 * covers (see {@link foldTarget}), so a provider that folds case or maps names cannot be reached
 * past a deny rule by another spelling; allow globs match exactly (least privilege).
 * @throws {@link ConfigError} saying why the glob is not valid (the glob itself is not repeated).
 * @example
 * ```ts
 * compileRefGlob('secret://orders-db/**').test('secret://orders-db/password'); // true
 * ```
 */
export function compileRefGlob(source: string, caseInsensitive = false): RefGlob {
  if (typeof source !== 'string' || source === '') throw new ConfigError('a ref glob must be a non-empty string');
  const anyScheme = source.startsWith(ANY_SCHEME);
  let ref: SecretRef;
  try {
    ref = parseRef(anyScheme ? `any${source.slice(1)}` : source);
  } catch (err) {
    // Neither the glob nor the parser's message is repeated (the cause is not kept either): a
    // pasted connection URL must not come back in an error.
    throw new ConfigError(`not a valid ref glob: ${reasonOf(err)}`);
  }
  if (Object.keys(ref.params).length > 0 || ref.fieldPath !== undefined) {
    throw new ConfigError('a ref glob has params or a #field; globs match scheme://path only');
  }
  let canonical = globTarget(ref);
  if (anyScheme) canonical = `*${canonical.slice(3)}`;
  const schemeEnd = canonical.indexOf('://');
  const scheme = canonical.slice(0, schemeEnd);
  const pattern =
    (scheme === '*' ? '[a-z][a-z0-9+.-]*' : escape(scheme)) +
    ':\\/\\/' +
    canonical
      .slice(schemeEnd + 3)
      .split('**')
      .map((part) => part.split('*').map(escape).join('[^/]*'))
      .join('.*');
  const regex = new RegExp(`^${pattern}$`, caseInsensitive ? 'i' : '');
  const folded = caseInsensitive && (anyScheme || ref.logical) ? foldedPattern(ref.segments) : undefined;
  return {
    source,
    canonical,
    test: (target) => regex.test(target),
    testFolded: (name) => folded !== undefined && folded.test(name),
  };
}

/**
 * The name a provider that maps logical refs to names (environment variables, see `envName`)
 * reads for a `secret://` glob target, or `undefined` for other schemes. Deny globs compare it
 * with {@link RefGlob.testFolded}.
 *
 * @example
 * ```ts
 * foldTarget('secret://orders_db/Admin'); // 'ORDERS_DB_ADMIN', as for 'secret://orders-db/admin'
 * ```
 */
export function foldTarget(target: string): string | undefined {
  const prefix = `${LOGICAL_SCHEME}://`;
  if (!target.startsWith(prefix)) return undefined;
  const path = target.slice(prefix.length).replace(/^\//, '');
  try {
    return envName(path.split('/').map((s) => decodeURIComponent(s)));
  } catch {
    // Not a canonical target (the guard only passes canonical ones): matched exactly, never folded.
    return undefined;
  }
}

/**
 * A glob's segments in the name space of `envName`: literal text mapped the same way, `*` and
 * `**` any run of name characters (the mapping turns `/` into `_`, so segment bounds are gone
 * there; a deny glob covers every spelling that reads a name it covers).
 */
function foldedPattern(segments: readonly string[]): RegExp {
  const body = segments
    .map((segment) =>
      segment
        .split(/\*+/)
        .map((piece) => escape(envPiece(piece)))
        .join('[A-Z0-9_]*'),
    )
    .join('_');
  return new RegExp(`^${body}$`);
}

/** A parse error's reason without the input: our messages never quote it; anything else is not repeated. */
function reasonOf(err: unknown): string {
  return err instanceof InvalidSecretRefError ? err.message : 'it does not parse as a ref';
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
