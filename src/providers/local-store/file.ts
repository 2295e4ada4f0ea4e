/**
 * File handling for the store and key files: private reads that refuse files other users can
 * read, change detection by (dev, ino, size, mtime, ctime), and crash-safe writes (temp file in
 * the same directory, fsync, rename or link, fsync of the directory). Writes follow symlinks:
 * a store path that is a symlink keeps being one, and its target gets the new content.
 *
 * @internal
 * @module
 */
import { constants } from 'node:fs';
import { link, mkdir, open, realpath, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AccessDeniedError, ConfigError, ProviderError, type ErrorOptions } from '../../errors.js';
import { tempPathOf } from './temps.js';

/** Mode of every file the store creates. */
export const FILE_MODE = 0o600;
/** Mode of every directory the store creates. */
export const DIR_MODE = 0o700;

const CHECK_MODES = process.platform !== 'win32';

/** Identifies one version of a file on disk; a rename or any write changes it. */
export interface FileStamp {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

/** True when two stamps name the same file content. */
export function sameStamp(a: FileStamp | undefined, b: FileStamp): boolean {
  return a !== undefined && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Options of {@link readPrivateFile}. */
export interface ReadPrivateOptions {
  /** What the file is, for messages: `store file`, `key file`. */
  readonly what: string;
  /** Largest accepted size in bytes. */
  readonly maxBytes: number;
  /** When the file still has this stamp, its content is not read. */
  readonly ifChanged?: FileStamp | undefined;
  /** Attached to every error. */
  readonly errorOptions?: ErrorOptions;
}

/**
 * Reads a file that must be private to its owner. Returns `undefined` when it does not exist,
 * and `{ stamp }` without `data` when its stamp equals `ifChanged`.
 *
 * @throws {@link ConfigError} when the file is not a regular file, is readable or writable by
 * group or others (the message says `chmod 600 <path>`), or is too large;
 * {@link AccessDeniedError} when the process may not read it.
 */
export async function readPrivateFile(path: string, options: ReadPrivateOptions): Promise<{ stamp: FileStamp; data?: Buffer } | undefined> {
  const { what, errorOptions = {} } = options;
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw fileError(err, `cannot open ${what} ${path}`, errorOptions);
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) throw new ConfigError(`${what} ${path} is not a regular file`, errorOptions);
    if (CHECK_MODES && (Number(st.mode) & 0o077) !== 0) {
      const mode = (Number(st.mode) & 0o777).toString(8).padStart(4, '0');
      throw new ConfigError(
        `${what} ${path} is accessible by group or others (mode ${mode}); it must be private to its owner: run chmod 600 ${path}`,
        errorOptions,
      );
    }
    if (st.size > BigInt(options.maxBytes)) {
      throw new ConfigError(`${what} ${path} is ${st.size} bytes; the limit is ${options.maxBytes}`, errorOptions);
    }
    const stamp: FileStamp = { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
    if (sameStamp(options.ifChanged, stamp)) return { stamp };
    const data = await handle.readFile();
    if (BigInt(data.length) !== st.size) {
      // Changed in place while we read (not by this store, which renames): read it next time.
      return { stamp: { ...stamp, size: -1n }, data };
    }
    return { stamp, data };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw fileError(err, `cannot read ${what} ${path}`, errorOptions);
  } finally {
    await handle.close();
  }
}

/** Creates `dir` and missing parents with mode 0700; existing directories are left alone. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * The real path `path` names: symlinks (of the file and its directories) resolved. For a file
 * that does not exist yet, its directory's real path joined with its name.
 */
export async function realTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw err;
    return join(await realpath(dirname(path)), basename(path));
  }
}

/**
 * Replaces the file `path` names atomically with `data` (mode 0600): a temp file in the same
 * directory as the real file is written and fsynced, renamed over the real file, and that
 * directory is fsynced. A symlink at `path` is followed, never replaced. On failure the temp
 * file is removed and the file is untouched.
 *
 * @param beforeCommit - Runs after the temp file is complete, right before the rename; if it
 * throws, nothing is written.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, beforeCommit?: () => Promise<void>): Promise<void> {
  const target = await realTarget(path);
  const temp = await writeTemp(target, data);
  try {
    await beforeCommit?.();
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDir(dirname(target));
}

/**
 * Creates `path` with `data` (mode 0600) only if it does not exist, atomically: readers see
 * either no file or the whole file. Returns false when `path` already exists.
 */
export async function createFileExclusive(path: string, data: string | Uint8Array): Promise<boolean> {
  const temp = await writeTemp(path, data);
  try {
    await link(temp, path);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
    // No hard links on this file system: fall back to an exclusive create.
    return await createFileInPlace(path, data);
  } finally {
    await rm(temp, { force: true });
  }
  await syncDir(dirname(path));
  return true;
}

/**
 * Creates `path` with `data` (mode 0600) only if it does not exist, writing it in place: no
 * temp copy of `data` can outlive a crash, which matters for key material. A crash mid-write
 * leaves a short file, which readers refuse. Returns false when `path` already exists.
 */
export async function createFileInPlace(path: string, data: string | Uint8Array): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', FILE_MODE);
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.chmod(FILE_MODE);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
  } catch (err) {
    // A half-written file would block the next attempt with "already exists".
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
  return true;
}

async function writeTemp(path: string, data: string | Uint8Array): Promise<string> {
  const temp = tempPathOf(path);
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    await handle.chmod(FILE_MODE);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  return temp;
}

/** Flushes a directory entry change (rename, link) to disk; a no-op where unsupported. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch (err) {
    const code = codeOf(err);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF' && code !== 'EACCES') throw err;
  } finally {
    await handle?.close();
  }
}

/** The `code` of a Node system error, if any. */
export function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
}

function fileError(err: unknown, message: string, options: ErrorOptions): Error {
  const code = codeOf(err);
  if (code === 'EACCES' || code === 'EPERM') return new AccessDeniedError(`${message}: permission denied`, { ...options, cause: err });
  return new ProviderError(`${message}${code === undefined ? '' : ` (${code})`}`, { ...options, cause: err });
}
