import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AccessDeniedError, InvalidSecretRefError, ProviderUnavailableError, SecretNotFoundError } from '../errors.js';
import type { SecretProvider } from '../provider.js';
import { formatRef } from '../ref/formatRef.js';
import { LOGICAL_SCHEME } from '../ref/types.js';

/**
 * Options of {@link fromFile}.
 *
 * @example
 * ```ts
 * fromFile({ root: '/run/secrets' });
 * ```
 */
export interface FromFileInit {
  /**
   * The directory secrets are read from; no resolved path (symlinks followed) may leave it.
   * @default '/run/secrets'
   */
  readonly root?: string;
  /**
   * Whether logical `secret://a/b` refs read `<root>/a/b`.
   * @default false
   */
  readonly logical?: boolean;
  /**
   * Whether one trailing newline (`\n` or `\r\n`) is dropped from text files, as most
   * `echo`-written secret files have one.
   * @default true
   */
  readonly trimTrailingNewline?: boolean;
  /**
   * The provider name shown in errors and on `Secret.provider`.
   * @default 'file'
   */
  readonly name?: string;
  /** The environment this provider is bound to, if any. */
  readonly environment?: string;
}

/**
 * Reads secrets from mounted files (Docker and Kubernetes secret mounts). `file:///run/secrets/x`
 * is an absolute path that must lie under `root`; `file://x` is relative to `root`. `#field`
 * selects a key of a JSON file. `?encoding=binary` returns the raw bytes.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({ environment: 'prod', providers: [fromFile({ root: '/run/secrets' })] });
 * await secrets.get('file:///run/secrets/orders-db.json#password');
 * ```
 */
export function fromFile(init: FromFileInit = {}): SecretProvider {
  const name = init.name ?? 'file';
  const root = path.resolve(init.root ?? '/run/secrets');
  const trim = init.trimTrailingNewline ?? true;
  let realRoot: Promise<string> | undefined;
  return {
    name,
    schemes: ['file'],
    logical: init.logical ?? false,
    params: ['encoding'],
    ...(init.environment === undefined ? {} : { environment: init.environment }),
    // `secret://a/b` (when logical), `file://a/b` and `file:///<root>/a/b` read one file.
    aliases(ref) {
      const wanted = ref.path.startsWith('/') ? ref.path : path.join(root, ...ref.segments);
      if (!isInside(root, wanted)) return [];
      const relative = path.relative(root, wanted).split(path.sep);
      const absolute = wanted.split(path.sep).filter((s) => s !== '');
      const out = [
        formatRef({ scheme: 'file', path: relative.join('/'), segments: relative, params: {} }),
        formatRef({ scheme: 'file', path: `/${absolute.join('/')}`, segments: absolute, params: {} }),
      ];
      if (init.logical === true) out.push(formatRef({ scheme: LOGICAL_SCHEME, path: relative.join('/'), segments: relative, params: {} }));
      return out;
    },
    // The file's modification time is when it was last written (a mount update, a rotation).
    async describe(ref) {
      const id = { ref: String(ref), provider: name };
      const wanted = ref.path.startsWith('/') ? ref.path : path.join(root, ...ref.segments);
      if (!isInside(root, wanted)) throw new AccessDeniedError(`${ref.path} is outside the secrets root`, id);
      try {
        realRoot ??= realpath(root);
        const real = await realpath(wanted);
        if (!isInside(await realRoot, real)) throw new AccessDeniedError('the file resolves outside the secrets root', id);
        const info = await stat(real);
        if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
        return { updatedAt: info.mtime };
      } catch (err) {
        throw classify(err, id);
      }
    },
    async resolve(ref, ctx) {
      const id = { ref: String(ref), provider: name };
      const encoding = ref.params['encoding'] ?? 'utf8';
      if (encoding !== 'utf8' && encoding !== 'binary') {
        throw new InvalidSecretRefError('the encoding param must be utf8 or binary', id);
      }
      const wanted = ref.path.startsWith('/') ? ref.path : path.join(root, ...ref.segments);
      if (!isInside(root, wanted)) throw new AccessDeniedError(`${ref.path} is outside the secrets root`, id);
      let real: string;
      try {
        realRoot ??= realpath(root);
        real = await realpath(wanted);
        if (!isInside(await realRoot, real)) throw new AccessDeniedError('the file resolves outside the secrets root', id);
        const bytes = await readFile(real, { signal: ctx.signal });
        if (encoding === 'binary') return { value: new Uint8Array(bytes) };
        const text = bytes.toString('utf8');
        return { value: trim ? text.replace(/\r?\n$/, '') : text };
      } catch (err) {
        throw classify(err, id);
      }
    },
  };
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function classify(err: unknown, id: { ref: string; provider: string }) {
  if (err instanceof AccessDeniedError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SecretNotFoundError('no such secret file', { ...id, cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new AccessDeniedError('the secret file is not readable', { ...id, cause: err });
  if (code === 'EISDIR') return new SecretNotFoundError('the path is a directory, not a secret file', { ...id, cause: err });
  return new ProviderUnavailableError(`the secret file could not be read (${code ?? 'unknown error'})`, { ...id, cause: err });
}
