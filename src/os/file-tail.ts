import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The last non-empty lines within the last `maxBytes` of a regular file, never through a symbolic link
 * and never blocking on a FIFO: a log that grew to gigabytes, or one line of a gigabyte, costs `maxBytes`.
 * The first line read is dropped when the file is longer (it is likely cut). Empty when it cannot be read.
 */
export function readFileTail(path: string, maxBytes: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) return [];
    const len = Math.min(st.size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, st.size - len);
    let text = buf.toString('utf8');
    if (len < st.size) text = text.slice(text.indexOf('\n') + 1);
    return text.split(/\r?\n/).filter((l) => l.trim());
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
