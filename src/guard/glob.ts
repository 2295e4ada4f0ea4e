import { ConfigError } from '../errors.js';
import { formatRef } from '../ref/formatRef.js';
import { parseRef } from '../ref/parseRef.js';
import type { SecretRef } from '../ref/types.js';

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
 * @param caseInsensitive - Match regardless of letter case. Deny globs use this, so a provider
 * that folds case (environment variables of logical refs, Azure Key Vault names) cannot be
 * reached past a deny rule by changing case; allow globs match exactly (least privilege).
 * @throws {@link ConfigError} naming the glob when it is not a valid ref glob.
 * @example
 * ```ts
 * compileRefGlob('secret://orders-db/**').test('secret://orders-db/password'); // true
 * ```
 */
export function compileRefGlob(source: string, caseInsensitive = false): RefGlob {
  if (typeof source !== 'string' || source === '') throw new ConfigError('a ref glob must be a non-empty string');
  const anyScheme = source.startsWith(ANY_SCHEME);
  let canonical: string;
  try {
    const ref = parseRef(anyScheme ? `any${source.slice(1)}` : source);
    if (Object.keys(ref.params).length > 0 || ref.fieldPath !== undefined) {
      throw new ConfigError(`ref glob "${source}" has params or a #field; globs match scheme://path only`);
    }
    canonical = globTarget(ref);
    if (anyScheme) canonical = `*${canonical.slice(3)}`;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`"${source}" is not a valid ref glob: ${(err as Error).message}`, { cause: err });
  }
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
  return { source, canonical, test: (target) => regex.test(target) };
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
