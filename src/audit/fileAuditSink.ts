import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AuditWriteError, ConfigError } from '../errors.js';
import { isAlive } from '../liveness.js';
import { HOST, createLockFile, holdUntilExit, readLock, releasedBeforeExit, shownHost, takeOver, type SeenLock } from '../lockFile.js';
import { fileAnchorSink, formatAnchorEntry, type AuditAnchorSink } from './anchor.js';
import type { AuditEvent, AuditHitSummary, AuditSink } from './event.js';
import { GroupCommit } from './groupCommit.js';
import { writeAll } from './writeAll.js';
import { MAX_SEALED_LINES } from './chainCheck.js';
import { AuditWorker } from './auditWorker.js';
import { GENESIS, bodyText, checkAuditEvent, checkHitSummary, macKey, macOf, newLogId, recordOf, signLines, type AuditLineBody } from './record.js';
import { firstWrite, lastWrite, recordsSinceSessionEnd, writeVerifies } from './logEnds.js';

/**
 * Options of {@link fileAuditSink}.
 *
 * @example
 * ```ts
 * fileAuditSink('/var/log/connector/audit.jsonl', { hmacKey: process.env.AUDIT_HMAC_KEY!, fsync: true });
 * ```
 */
export interface FileAuditSinkOptions {
  /** The HMAC-SHA256 key (at least 16 bytes; a string is used as its UTF-8 bytes). Keep it out of the log's reach. */
  readonly hmacKey: string | Uint8Array;
  /**
   * Whether each write is flushed to disk (`fdatasync`) before the accesses it records go on.
   * Records that arrive while a write is in flight share the next write and its one flush
   * (group commit), so concurrent callers do not queue behind one flush each; the next batch is
   * written while the previous one is being flushed, and a flush covers every batch written
   * before it began. Without it a
   * record is in the operating system's page cache when its access returns: it survives the
   * process being killed, but not a power loss or kernel crash before the kernel writes it back.
   * @default false
   */
  readonly fsync?: boolean;
  /**
   * The most records one write takes; records beyond it wait, in order, for the next write
   * (back-pressure: every caller awaits its record, so the queue is bounded by the callers). At
   * most 65,536: one MAC covers a write, and the reader bounds how many lines it may cover.
   * @default 4096
   */
  readonly maxBatch?: number;
  /**
   * Whether batches of 16 records or more are signed (HMAC-SHA256) and written by a worker
   * thread, started by the first such batch, instead of on the event loop that serves `get`.
   * The worker keeps the process alive only while a batch is in flight.
   * @default true
   */
  readonly offload?: boolean;
  /**
   * The clock of the checkpoint's timestamp, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * An external anchor: at every checkpoint the sink appends the log id, the checkpoint's `seq`
   * and its MAC to this file (a path) or {@link AuditAnchorSink}. Give the same anchor to
   * {@link verifyAuditLog} (`anchor`) or `audit verify --anchor`, and a log cut back to an earlier
   * checkpoint, or replaced by another log under the same key, no longer verifies. Put it where the
   * log's writer cannot rewrite it (another volume, an append-only file, a remote sink).
   * @default no anchor
   */
  readonly anchor?: string | AuditAnchorSink;
}

/** A file audit sink: an {@link AuditSink} with the path it appends to. */
export interface FileAuditSink extends AuditSink {
  /** The log file. */
  readonly path: string;
  /** Writes the signed checkpoint and closes the file; later writes fail. */
  close(): Promise<void>;
}

const openPaths = new Set<string>();

/**
 * An append-only, tamper-evident JSON Lines audit log, written in batches (one `write` each). Each
 * line is `{"v":3,"log":"…","seq":N,"event":{…}}`, and the last line of each write is sealed:
 * `{"v":3,"log":"…","seq":N,"prev":"…","event":{…},"mac":"…"}`, each in exactly that one byte form
 * (the event as canonical JSON: keys sorted, no whitespace). `log` is a random id chosen when the
 * log is created, `seq` counts lines from 1, `prev` is the MAC of the previous write (64 zeros for
 * the first), and `mac = HMAC-SHA256(hmacKey, the write's bytes before ,"mac":)` — the bytes on
 * disk, not a re-serialisation: one MAC per write, so an edit anywhere in a write fails it.
 * Closing appends a signed checkpoint line (count, identity, environment) as a write of its own,
 * so a log cut short is visible too, and, with `anchor`, records that checkpoint outside the log.
 * {@link verifyAuditLog} (and `connector-secrets audit verify`) checks it all, and reads format 2
 * logs (a MAC on every line), which this sink continues in format 3.
 *
 * Group commit: records that arrive while a write is in flight go out together in the next write
 * (one `fdatasync` with `fsync`), in the order they arrived; each caller waits for the write that
 * holds its record. Cache-hit summaries (`writeSummary`) are lines of their own kind.
 *
 * A log is bound to its writer: the identity and environment of its first record are repeated in
 * every checkpoint. An existing log is continued (same log id): its first and last lines must
 * verify under the same key. The
 * file is created with mode 0600; one sink may write a file at a time, in this process and across
 * processes: the sink holds `<file>.lock` (pid, host, token) while it writes, refuses a log whose
 * lock a live process holds (or one on another host), and takes over a lock left by a dead one. A failed
 * write breaks the sink for good (every later write fails), so the chain never skips a line.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({
 *   environment: 'prod',
 *   providers,
 *   audit: fileAuditSink('audit/orders-sync.jsonl', { hmacKey: await readFile('/run/keys/audit.key', 'utf8') }),
 * });
 * ```
 */
export function fileAuditSink(file: string, options: FileAuditSinkOptions): FileAuditSink {
  if (typeof file !== 'string' || file === '') throw new ConfigError('fileAuditSink needs a file path');
  const key = macKey(options.hmacKey);
  if (options.maxBatch !== undefined && options.maxBatch > MAX_SEALED_LINES) throw new ConfigError(`fileAuditSink maxBatch is at most ${MAX_SEALED_LINES}`);
  const now = options.now ?? Date.now;
  const full = path.resolve(file);
  let handle: FileHandle | undefined;
  let opening: Promise<FileHandle> | undefined;
  const anchor = typeof options.anchor === 'string' ? fileAnchorSink(options.anchor) : options.anchor;
  let seq = 0;
  let prev = GENESIS;
  let logId = newLogId();
  /** The identity and environment the log belongs to: its first record's, repeated in every checkpoint. */
  let owner: { identity: string | null; environment: string } | undefined;
  let count = 0;
  /** The `resumed` marker this session writes first, when the log's last session did not close. */
  let resumed: AuditLineBody | undefined;
  let broken: unknown;
  let closing = false;
  let closed: Promise<void> = Promise.resolve();

  const fail = (message: string, cause?: unknown) => new AuditWriteError(`audit log ${file}: ${message}`, { cause });

  const lockPath = `${full}.lock`;
  const lockToken = randomBytes(12).toString('hex');
  let locked = false;

  /**
   * Takes the log's lock file across processes: two writers of one log would fork its chain. A
   * lock left by a dead process of this host (or one still incomplete after a few seconds) is
   * taken over; a live holder, or one on another host, is refused.
   */
  const lock = async (): Promise<void> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = JSON.stringify({ pid: process.pid, hostname: HOST, startedAt: Date.now(), token: lockToken }) + '\n';
      if (await createLockFile(lockPath, record, `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)) {
        holdUntilExit(lockPath, lockToken);
        locked = true;
        return;
      }
      const seen = await readLock(lockPath);
      if (seen === undefined) continue;
      if (!lockIsStale(seen)) {
        const who = seen.holder === undefined ? 'a process that is still creating it' : `pid ${seen.holder.pid} on ${shownHost(seen.holder.hostname)}`;
        throw fail(`another process writes this log (${who}, per ${lockPath}); one writer per log, or its chain forks. If that process is gone, remove the lock file`);
      }
      await takeOver(lockPath, seen, lockIsStale, `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`);
    }
    throw fail(`its lock file ${lockPath} keeps changing hands; another process is starting to write this log`);
  };

  const unlock = async (): Promise<void> => {
    if (!locked) return;
    locked = false;
    releasedBeforeExit(lockPath);
    const seen = await readLock(lockPath).catch(() => undefined);
    if (seen?.holder?.token === lockToken) await rm(lockPath, { force: true }).catch(() => undefined);
  };

  const openFile = async (): Promise<FileHandle> => {
    if (openPaths.has(full)) throw fail('another sink in this process already writes this file');
    openPaths.add(full);
    try {
      await lock();
      const h = await open(full, 'a+', 0o600);
      try {
        const last = await lastWrite(h);
        if (last !== undefined) {
          if (typeof last === 'string' || !writeVerifies(key, last)) {
            throw fail('its last line does not verify under this key; run `connector-secrets audit verify` and move the file aside');
          }
          const seal = last[last.length - 1]!.line;
          seq = seal.seq;
          prev = seal.mac!;
          logId = seal.log;
          // The log's owner is its first record's writer; a checkpoint of this session repeats it.
          const first = last[0]!.line.seq === 1 ? last : await firstWrite(h);
          if (typeof first === 'string' || !writeVerifies(key, first) || first[0]!.line.seq !== 1 || first[0]!.line.log !== logId) {
            throw fail('its first line does not verify under this key; run `connector-secrets audit verify` and move the file aside');
          }
          const record = recordOf(first[0]!.line);
          owner = { identity: record.identity, environment: record.environment };
          // The last session never closed (killed, crashed): this one first counts its records.
          if (!('checkpoint' in seal)) {
            resumed = { resumed: { ts: new Date(now()).toISOString(), count: await recordsSinceSessionEnd(h), ...owner } };
          }
        }
      } catch (err) {
        await h.close();
        throw err;
      }
      return h;
    } catch (err) {
      await unlock();
      openPaths.delete(full);
      throw err instanceof AuditWriteError ? err : fail('cannot be opened', err);
    }
  };

  /** The worker that signs and writes large batches, started by the first one (see `offload`). */
  let worker: AuditWorker | undefined;
  const offload = options.offload ?? true;

  /** Signs `bodies` after the chain's head on this thread, appends them in one write, and moves the head on. */
  const writeHere = async (h: FileHandle, bodies: readonly string[]): Promise<void> => {
    const signed = signLines((text) => macOf(key, text), logId, seq, prev, bodies);
    await writeAll(h, Buffer.from(signed.text, 'utf8'));
    seq = signed.seq;
    prev = signed.mac;
  };

  /**
   * Appends `lines` in one write, signed here or, for a batch of at least OFFLOAD_MIN lines (and
   * any batch while the worker has some in flight, so the chain stays in order), posted to the
   * worker, whose write `sync` waits for. The written state (`seq`, `prev`) moves on only when a
   * write succeeded; a failure breaks the sink, so the chain never skips a line.
   */
  const append = async (lines: readonly Line[]): Promise<void> => {
    if (broken !== undefined) throw fail('an earlier write failed; the sink is broken', broken);
    try {
      handle ??= await (opening ??= openFile());
      if (resumed !== undefined) {
        // A write of its own, sealed alone, before any record of this session.
        await writeHere(handle, [bodyText(resumed)]);
        resumed = undefined;
      }
      const bodies = lines.map((l) => l.text);
      if (worker?.busy === true || (offload && options.fsync !== true && lines.length >= OFFLOAD_MIN)) {
        worker ??= new AuditWorker(key, (head) => {
          seq = head.seq;
          prev = head.mac;
        });
        worker.post(handle.fd, logId, worker.busy ? undefined : { seq, mac: prev }, bodies);
      } else {
        await writeHere(handle, bodies);
      }
    } catch (err) {
      broken = err;
      throw err instanceof AuditWriteError ? err : fail('write failed', err);
    }
  };

  /**
   * What makes the batches appended so far safe: the worker's writes of them, then, with
   * `fsync`, one `fdatasync` for all. A failure breaks the sink (what it covered may be lost).
   */
  const sync = async (): Promise<void> => {
    if (broken !== undefined) throw fail('an earlier write failed; the sink is broken', broken);
    try {
      await worker?.settled();
    } catch (err) {
      broken ??= err;
      throw fail('write failed', err);
    }
    if (options.fsync !== true) return;
    try {
      await handle!.datasync();
    } catch (err) {
      broken ??= err;
      throw fail('fdatasync failed', err);
    }
  };

  /** A record's line before it is chained: its body, and the body's canonical text (made here, on the caller's turn). */
  const line = (body: AuditLineBody): Line => {
    owner ??= recordOf(body);
    return { body, text: bodyText(body) };
  };

  const records = new GroupCommit<Line>(
    async (batch) => {
      await append(batch);
      count += batch.length;
    },
    options.maxBatch,
    // With or without fsync: the next batch is cut while the worker writes (or the disk
    // flushes) the previous one, so the callers of one run while the other is made safe.
    sync,
  );

  /** Queues a checked record; what the reader would refuse is never written (the sink stays usable). */
  const push = (body: AuditLineBody | string): Promise<void> => {
    if (typeof body === 'string') return Promise.reject(fail(`not written: ${body}`));
    if (closing) return Promise.reject(fail('the sink was closed'));
    if (broken !== undefined) return Promise.reject(fail('an earlier write failed; the sink is broken', broken));
    return records.push(line(body));
  };

  return {
    path: full,
    write(event: AuditEvent) {
      const checked = checkAuditEvent(event);
      return push(typeof checked === 'string' ? checked : { event: checked });
    },
    writeSummary(summary: AuditHitSummary) {
      const checked = checkHitSummary(summary);
      return push(typeof checked === 'string' ? checked : { summary: checked });
    },
    async close() {
      if (closing) return closed;
      closing = true;
      closed = (async () => {
        // Every record accepted before close() is written (or fails) before the checkpoint.
        await records.drain();
        try {
          if (handle !== undefined && broken === undefined && owner !== undefined) {
            const { identity, environment } = owner;
            await append([line({ checkpoint: { ts: new Date(now()).toISOString(), count, identity, environment } })]);
            await handle.sync();
            // Only once the checkpoint is on disk: an anchor never points past the log.
            try {
              await anchor?.append(formatAnchorEntry({ log: logId, seq, mac: prev }));
            } catch (err) {
              throw fail('the checkpoint is written but its anchor could not be', err);
            }
          }
        } finally {
          await worker?.close();
          // Only a sink that opened the file holds it (a refused open released nothing it had).
          if (handle !== undefined) {
            await handle.close();
            await unlock();
            openPaths.delete(full);
          }
          await anchor?.close?.();
        }
      })();
      return closed;
    },
  };
}

/**
 * Whether a log's lock file may be taken over: its holder ran on this host and is gone (or is
 * this process, which the in-process guard already found not writing the log), or it never got
 * its record written. A holder on another host cannot be judged from here, so it is not.
 */
function lockIsStale(seen: SeenLock): boolean {
  if (seen.holder === undefined) return Date.now() - seen.mtimeMs > INCOMPLETE_LOCK_MS;
  if (seen.holder.hostname !== HOST) return false;
  return seen.holder.pid === process.pid || !isAlive(seen.holder.pid);
}

/** How long a lock file may lack its record before it counts as left by a killed process. */
const INCOMPLETE_LOCK_MS = 2_000;

/** A record queued for the log: its body, and the body's canonical text ({@link bodyText}). */
interface Line {
  readonly body: AuditLineBody;
  readonly text: string;
}

/** Batches of at least this many records are signed and written by the worker thread. */
const OFFLOAD_MIN = 16;
