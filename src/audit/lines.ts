import { createReadStream } from 'node:fs';

/** The longest line a reader accepts; a longer one is not an audit record (and is not buffered whole). */
export const MAX_LINE_BYTES = 1024 * 1024;

/** How {@link readLines} ended when it did not read every line. */
export type ReadLinesEnd =
  | { readonly done: true }
  | { readonly done: false; readonly line: number; readonly reason: string };

/**
 * Reads a file as a stream of `\n`-terminated lines of raw bytes (no decoding, so a MAC can
 * cover exactly what is stored) and calls `onLine` with each (without its `\n`) and its 1-based
 * number, until `onLine` returns `false`. Ends with why it stopped early: an unreadable file, a
 * line longer than {@link MAX_LINE_BYTES}, or a last line without its newline. Reasons never
 * quote the file. What `onLine` throws is passed on as it is (it is not a read error).
 */
export async function readLines(file: string, onLine: (bytes: Buffer, lineNo: number) => boolean | Promise<boolean>): Promise<ReadLinesEnd> {
  let lineNo = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let thrown: { err: unknown } | undefined;
  const call = async (line: Buffer, n: number): Promise<boolean> => {
    try {
      return await onLine(line, n);
    } catch (err) {
      thrown = { err };
      throw err;
    }
  };
  try {
    for await (const chunk of createReadStream(file)) {
      const buf = chunk as Buffer;
      let start = 0;
      for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
        const piece = buf.subarray(start, nl);
        const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        lineNo += 1;
        if (line.length > MAX_LINE_BYTES) return { done: false, line: lineNo, reason: `longer than ${MAX_LINE_BYTES} bytes: not an audit record` };
        if (!(await call(line, lineNo))) return { done: true };
      }
      if (start < buf.length) {
        pending.push(buf.subarray(start));
        pendingBytes += buf.length - start;
        if (pendingBytes > MAX_LINE_BYTES) return { done: false, line: lineNo + 1, reason: `longer than ${MAX_LINE_BYTES} bytes: not an audit record` };
      }
    }
  } catch (err) {
    if (thrown !== undefined) throw thrown.err;
    return { done: false, line: lineNo + 1, reason: `the log cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (pendingBytes > 0) return { done: false, line: lineNo + 1, reason: 'the last line is incomplete: the log was truncated' };
  return { done: true };
}
