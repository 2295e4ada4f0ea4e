import { ConfigError } from './errors.js';

/**
 * The one error for an optional peer dependency that a feature needs and cannot load. Each peer
 * is loaded where it is used, with a literal specifier (`await import('yaml')`) so that bundlers
 * see and include it; this only words the failure.
 *
 * A package that is installed but throws while loading is reported as such, not as missing.
 *
 * @internal
 * @example
 * ```ts
 * const yaml = await import('yaml').catch((err: unknown) => { throw peerLoadError('yaml', 'YAML policy files', err); });
 * ```
 */
export function peerLoadError(pkg: string, feature: string, err: unknown, hint = ''): ConfigError {
  const also = hint === '' ? '' : ` ${hint}`;
  if (isNotFound(err, pkg)) {
    return new ConfigError(`the optional peer dependency "${pkg}" is not installed (needed for ${feature}): npm install ${pkg}${also}`, { cause: err });
  }
  return new ConfigError(`the optional peer dependency "${pkg}" (needed for ${feature}) is installed but failed to load; see the cause`, { cause: err });
}

/** Node's "cannot find" errors for this package (ESM and CJS resolution both), not for one of its own imports. */
function isNotFound(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  const code = e.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof e.message === 'string' && e.message.includes(`'${pkg}'`);
}
