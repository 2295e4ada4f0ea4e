/**
 * The cross-process lock around every read-modify-write of a store file: a lock file next to
 * the store (`<store>.lock`), created exclusively, holding the holder's pid, hostname, start
 * time and a random token. A lock whose holder is dead (its pid no longer runs on this host),
 * or that is older than {@link STALE_LOCK_MS}, is taken over; otherwise the writer waits with
 * backoff up to its timeout and then fails with {@link StoreLockTimeoutError}.
 *
 * Taking over is a rename of the lock file aside, so two processes that both judge a lock
 * stale cannot both remove it; and a holder checks that the lock file still carries its token
 * just before it commits (the rename of its temp file), so a holder whose lock was taken over
 * fails instead of overwriting the newer holder's write.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ConnectorSecretsError, ProviderError, type ErrorOptions, type ProviderUnavailableError } from '../../errors.js';
import { sleep } from '../../handles/clock.js';
import { isAlive } from '../../liveness.js';
import { HOST, createLockFile, holdUntilExit, readLock, releasedBeforeExit, shownHost, takeOver, type LockHolder, type SeenLock } from '../../lockFile.js';
import { tempPathOf } from './temps.js';

/** How long a writer waits for the lock by default. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/**
 * Age after which a lock is taken over even when its holder seems alive (its pid may have been
 * reused, or it runs on another host). Holders commit in well under a second; scrypt at its
 * highest cost takes a few seconds.
 */
export const STALE_LOCK_MS = 30_000;
/**
 * Age after which a lock file without a complete record is taken over: its creator writes the
 * record right after creating the file, so one still incomplete this long was left by a
 * process killed in between.
 */
const INCOMPLETE_LOCK_MS = 2_000;
const FIRST_PAUSE_MS = 4;
const MAX_PAUSE_MS = 100;


/** The holder of a store lock, as a {@link StoreLockTimeoutError} reports it. */
export interface LockHolderInfo {
  /** Its process id. */
  readonly pid: number;
  /** The host it runs on. */
  readonly hostname: string;
  /** When it took the lock. */
  readonly startedAt: Date;
}

/**
 * A write to the local store waited for the store's lock longer than `lockTimeoutMs`: another
 * process (named in the message by pid and host) is writing the same store. Nothing was
 * written; the write may be retried. Its `code` is `PROVIDER_UNAVAILABLE` ("not now").
 *
 * @example
 * ```ts
 * try {
 *   await store.set('orders-db/password', value);
 * } catch (err) {
 *   if (err instanceof StoreLockTimeoutError) console.error(err.lockPath, err.holder?.pid);
 * }
 * ```
 */
export class StoreLockTimeoutError extends ConnectorSecretsError {
  /** Always `'StoreLockTimeoutError'`. */
  override name = 'StoreLockTimeoutError' as const;
  declare readonly code: ProviderUnavailableError['code'];
  /** The lock file. */
  readonly lockPath: string;
  /** The last holder seen, when its lock file could be read. */
  readonly holder: LockHolderInfo | undefined;
  constructor(
    message: string,
    options: ErrorOptions & { lockPath: string; holder?: { readonly pid: number; readonly hostname: string; readonly startedAt: number } | undefined },
  ) {
    super('PROVIDER_UNAVAILABLE', message, options);
    this.lockPath = options.lockPath;
    const h = options.holder;
    this.holder = h === undefined ? undefined : { pid: h.pid, hostname: shownHost(h.hostname), startedAt: new Date(h.startedAt) };
  }
}

/** A lock this process holds. */
export interface HeldLock {
  /** Throws unless the lock file still carries this holder's token. Call it right before committing. */
  assertHeld(): Promise<void>;
  /** Removes the lock file if it is still this holder's. Never throws. */
  release(): Promise<void>;
}

/** Options of {@link acquireLock}. */
export interface AcquireOptions {
  /** How long to wait for a live holder; 0 tries once. */
  readonly timeoutMs: number;
  /** Attached to every error. */
  readonly errorOptions?: ErrorOptions;
  /** Randomness for the backoff jitter, in [0, 1). */
  readonly random?: () => number;
}

/** The lock file of a store file (which must already be resolved to its real path). */
export function lockPathOf(target: string): string {
  return `${target}.lock`;
}

/**
 * Takes the lock `lockPath`, waiting up to `timeoutMs` for a live holder.
 *
 * @throws {@link StoreLockTimeoutError} when a live holder keeps it longer than `timeoutMs`.
 */
export async function acquireLock(lockPath: string, options: AcquireOptions): Promise<HeldLock> {
  const random = options.random ?? Math.random;
  const errorOptions = options.errorOptions ?? {};
  const token = randomBytes(12).toString('hex');
  const started = Date.now();
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    const record: LockHolder = { pid: process.pid, hostname: HOST, startedAt: Date.now(), token };
    if (await createLockFile(lockPath, JSON.stringify(record) + '\n', tempPathOf(lockPath))) {
      holdUntilExit(lockPath, token);
      return heldLock(lockPath, token, errorOptions);
    }
    const seen = await readLock(lockPath);
    if (seen === undefined) continue; // released between our attempt and our look: try again now
    if (isStale(seen)) {
      await takeOver(lockPath, seen, isStale, tempPathOf(lockPath));
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      const who = seen.holder === undefined ? 'a process that is still creating it' : `pid ${seen.holder.pid} on ${shownHost(seen.holder.hostname)}`;
      throw new StoreLockTimeoutError(
        `waited ${waited} ms for the lock ${lockPath}, held by ${who}; another process is writing this store. Nothing was written; retry, or raise lockTimeoutMs`,
        { ...errorOptions, lockPath, holder: seen.holder },
      );
    }
    // sleep() keeps the process alive: the caller awaits this wait.
    await sleep(Math.min(Math.ceil(pause * (0.5 + random())), options.timeoutMs - waited));
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}

/** Runs `task` holding the lock; the lock is released however `task` ends. */
export async function withLock<T>(lockPath: string, options: AcquireOptions, task: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(lockPath, options);
  try {
    return await task(lock);
  } finally {
    await lock.release();
  }
}

function heldLock(lockPath: string, token: string, errorOptions: ErrorOptions): HeldLock {
  return {
    async assertHeld() {
      const seen = await readLock(lockPath);
      if (seen?.holder?.token !== token) {
        throw new ProviderError(
          `the lock ${lockPath} was taken over by another process while this write ran (it took longer than ${STALE_LOCK_MS} ms); nothing was written`,
          errorOptions,
        );
      }
    },
    async release() {
      releasedBeforeExit(lockPath);
      try {
        const seen = await readLock(lockPath);
        if (seen?.holder?.token === token) await rm(lockPath, { force: true });
      } catch {
        // Left behind, the lock names a process that no longer holds it; the next writer takes it over.
      }
    },
  };
}

function isStale(seen: SeenLock): boolean {
  const now = Date.now();
  if (seen.holder === undefined) return now - seen.mtimeMs > INCOMPLETE_LOCK_MS;
  if (seen.holder.hostname === HOST && seen.holder.pid !== process.pid && !isAlive(seen.holder.pid)) return true;
  return now - seen.holder.startedAt > STALE_LOCK_MS;
}

