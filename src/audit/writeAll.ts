import type { FileHandle } from 'node:fs/promises';

/**
 * Writes all of `bytes` at the end of a file opened for appending. A write may take fewer bytes
 * than it was given (a full disk, a signal); stopping there would leave a cut line that the next
 * line is appended to.
 */
export async function writeAll(h: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await h.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

