/**
 * Lock files shared by the writers that must be alone on a file across processes (the local
 * store's writes, an audit log's writer): a file created exclusively next to the target, holding
 * the holder's pid, hostname, start time and a random token; a stale one is renamed aside before
 * it is removed, so two processes that both judge it stale cannot both take it.
 *
 * @internal
 * @module
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/** The hostname recorded in lock files; pids are only compared on the same host. */
export const HOST = hostname();

/** What a lock file records about its holder. Nothing in it is secret. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** When the holder took the lock, in epoch milliseconds. */
  readonly startedAt: number;
  readonly token: string;
}

/**
 * A hostname read from a lock file, fit for a message: the lock file is input like any other
 * file, so anything that does not look like a hostname is not shown.
 */
export function shownHost(host: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(host) ? host : '(a host name not shown)';
}

/** Locks held by this process, by lock path, so that a process that exits releases them. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/** Notes a lock this process now holds, so that exiting removes its file. */
export function holdUntilExit(lockPath: string, token: string): void {
  installExitHook();
  held.set(lockPath, token);
}

/** Notes that a lock was released. */
export function releasedBeforeExit(lockPath: string): void {
  held.delete(lockPath);
}

/** Creates the lock file holding `record` (written at `tempPath` first, which is removed after); false when it exists. */
export async function createLockFile(lockPath: string, record: string, tempPath: string): Promise<boolean> {
  // Written aside, then linked into place: the link fails when the lock exists (exclusive, as
  // 'wx' is), and the lock is never seen empty. Created empty and then filled, a writer killed in
  // between left a lock that looked held (by a process still writing it) to the next opener.
  await writeFile(tempPath, record, { mode: 0o600, flag: 'wx' });
  try {
    await link(tempPath, lockPath);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tempPath, { force: true });
  }
}

export interface SeenLock {
  /** The file's text, to tell later whether it is still the same lock. */
  readonly text: string;
  /** The parsed record; undefined while the creator has not written it yet (or never will). */
  readonly holder: LockHolder | undefined;
  readonly mtimeMs: number;
}

/** Reads a lock file; undefined when there is none. */
export async function readLock(file: string): Promise<SeenLock | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { text, holder: parseHolder(text), mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder> | null;
    if (
      v !== null &&
      typeof v === 'object' &&
      Number.isSafeInteger(v.pid) &&
      (v.pid as number) > 0 &&
      typeof v.hostname === 'string' &&
      Number.isSafeInteger(v.startedAt) &&
      typeof v.token === 'string'
    ) {
      return v as LockHolder;
    }
  } catch {
    // Incomplete or foreign: judged by the file's age.
  }
  return undefined;
}

/**
 * Removes a stale lock (as `isStale` judges), renaming it to `aside` first. The lock is renamed aside first, which only one process can do to a
 * given file; if what was moved is not the lock judged stale (a new holder created it in the
 * meantime) and it is live, it is put back.
 */
export async function takeOver(lockPath: string, judged: SeenLock, isStale: (seen: SeenLock) => boolean, aside: string): Promise<void> {
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return; // someone else took it over or released it
    throw err;
  }
  try {
    const moved = await readLock(aside);
    if (moved !== undefined && moved.text !== judged.text && !isStale(moved)) {
      // link fails if a third process took the lock meanwhile; the moved holder then fails
      // its assertHeld() and writes nothing.
      await link(aside, lockPath).catch(() => undefined);
    }
  } finally {
    await rm(aside, { force: true });
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that exits (process.exit, an uncaught error) while a write holds a lock removes
  // the lock file, so the next writer does not have to wait for it to be judged stale.
  process.on('exit', () => {
    for (const [lockPath, token] of held) {
      try {
        if (parseHolder(readFileSync(lockPath, 'utf8'))?.token === token) unlinkSync(lockPath);
      } catch {
        // Nothing more can be done while exiting.
      }
    }
  });
}

