/**
 * Temp files of the store's atomic writes: their one name pattern, and the removal of those
 * left behind by writers that died between writing a temp file and renaming it (each is a full
 * copy of a store file, still decrypting under whatever key was current then).
 *
 * A temp file of `<dir>/<name>` is `<dir>/.<name>.<pid>.<12 hex>.tmp`. Only files matching that
 * exact pattern for the given file are ever removed, and only when the pid in the name is not a
 * running process on this host, or the file is older than {@link STALE_TEMP_MS}.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from '../../liveness.js';

/** Age after which a temp file is removed even if the pid in its name runs (pid reuse). */
export const STALE_TEMP_MS = 60_000;

const SUFFIX = /^([1-9][0-9]{0,9})\.[0-9a-f]{12}\.tmp$/;

/** A fresh temp file path for `path`, in the same directory. */
export function tempPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The pid in `entry` when it is a temp file name of the file named `name`, else undefined. */
function tempPid(entry: string, name: string): number | undefined {
  const prefix = `.${name}.`;
  if (!entry.startsWith(prefix)) return undefined;
  const m = SUFFIX.exec(entry.slice(prefix.length));
  return m === null ? undefined : Number(m[1]);
}

/**
 * Removes the stale temp files of `path` (a real path, not a symlink). Returns how many were
 * removed. A temp file that cannot be removed is left for the next attempt.
 */
export async function removeStaleTemps(path: string, now: number = Date.now()): Promise<number> {
  const dir = dirname(path);
  const name = basename(path);
  let removed = 0;
  for (const entry of await readdir(dir)) {
    const pid = tempPid(entry, name);
    if (pid === undefined) continue;
    const file = join(dir, entry);
    try {
      const st = await lstat(file);
      if (!st.isFile()) continue;
      const running = pid === process.pid || isAlive(pid);
      if (running && now - st.mtimeMs <= STALE_TEMP_MS) continue;
      await rm(file, { force: true });
      removed++;
    } catch {
      // Gone already, or not ours to remove: the next cleanup tries again.
    }
  }
  return removed;
}
