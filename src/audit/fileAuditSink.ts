import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AuditWriteError, ConfigError } from '../errors.js';
import type { AuditEvent, AuditSink } from './event.js';
import { GENESIS, bodyOf, formatLine, lineMac, macKey, parseLine, sameMac, type AuditLine, type AuditLineBody } from './record.js';

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
   * Whether each line is flushed to disk (`fdatasync`) before the access it records goes on.
   * @default false
   */
  readonly fsync?: boolean;
  /**
   * The clock of the checkpoint's timestamp, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
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
 * An append-only, tamper-evident JSON Lines audit log. Each line is
 * `{"event":{…},"mac":"…","prev":"…","seq":N}`: `seq` counts lines from 1, `prev` is the previous
 * line's `mac` (64 zeros for the first), and `mac = HMAC-SHA256(hmacKey, prev ‖ canonical JSON of
 * { seq, event })`. Closing appends a signed checkpoint line, so a log cut short is visible too.
 * {@link verifyAuditLog} (and `connector-secrets audit verify`) checks the whole chain.
 *
 * An existing log is continued: its last line must verify under the same key. The file is created
 * with mode 0600; one sink (one process) may write a file at a time. A failed write breaks the
 * sink for good (every later write fails), so the chain never skips a line.
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
  const now = options.now ?? Date.now;
  const full = path.resolve(file);
  let handle: FileHandle | undefined;
  let opening: Promise<FileHandle> | undefined;
  let seq = 0;
  let prev = GENESIS;
  let count = 0;
  let broken: unknown;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const fail = (message: string, cause?: unknown) => new AuditWriteError(`audit log ${file}: ${message}`, { cause });

  const openFile = async (): Promise<FileHandle> => {
    if (openPaths.has(full)) throw fail('another sink in this process already writes this file');
    openPaths.add(full);
    try {
      const h = await open(full, 'a+', 0o600);
      try {
        const last = await lastLine(h);
        if (last !== undefined) {
          const line = parseLine(last);
          if (typeof line === 'string' || !sameMac(line.mac, lineMac(key, line.prev, bodyOf(line)))) {
            throw fail('its last line does not verify under this key; run `connector-secrets audit verify` and move the file aside');
          }
          seq = line.seq;
          prev = line.mac;
        }
      } catch (err) {
        await h.close();
        throw err;
      }
      return h;
    } catch (err) {
      openPaths.delete(full);
      throw err instanceof AuditWriteError ? err : fail('cannot be opened', err);
    }
  };

  const append = async (body: (seq: number) => AuditLineBody): Promise<void> => {
    if (broken !== undefined) throw fail('an earlier write failed; the sink is broken', broken);
    if (closed) throw fail('the sink was closed');
    try {
      handle ??= await (opening ??= openFile());
      const b = body(seq + 1);
      const mac = lineMac(key, prev, b);
      const line = formatLine({ ...b, prev, mac } as AuditLine);
      await handle.write(line);
      if (options.fsync === true) await handle.datasync();
      seq = b.seq;
      prev = mac;
    } catch (err) {
      broken = err;
      throw err instanceof AuditWriteError ? err : fail('write failed', err);
    }
  };

  const enqueue = (task: () => Promise<void>): Promise<void> => {
    const run = queue.then(task);
    queue = run.catch(() => {});
    return run;
  };

  return {
    path: full,
    write(event: AuditEvent) {
      return enqueue(async () => {
        await append((n) => ({ seq: n, event }));
        count += 1;
      });
    },
    close() {
      return enqueue(async () => {
        if (closed) return;
        try {
          if (handle !== undefined && broken === undefined) {
            await append((n) => ({ seq: n, checkpoint: { ts: new Date(now()).toISOString(), count } }));
            await handle.sync();
          }
        } finally {
          closed = true;
          // Only a sink that opened the file holds it (a refused open released nothing it had).
          if (handle !== undefined) {
            openPaths.delete(full);
            await handle.close();
          }
        }
      });
    },
  };
}

/** The last complete line of the file (without its newline), or undefined when it is empty. */
async function lastLine(h: FileHandle): Promise<string | undefined> {
  const { size } = await h.stat();
  if (size === 0) return undefined;
  let start = Math.max(0, size - 65_536);
  for (;;) {
    const buf = Buffer.alloc(size - start);
    await h.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    if (!text.endsWith('\n')) throw new AuditWriteError('the audit log ends with an incomplete line; run `connector-secrets audit verify`');
    const cut = text.lastIndexOf('\n', text.length - 2);
    if (cut !== -1 || start === 0) return text.slice(cut + 1, -1);
    start = 0;
  }
}
