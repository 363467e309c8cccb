import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { visible } from '../cli/output.ts';

/** The most of a log read for its tail: a task that printed a 1 GB line costs 4 KiB here. */
const TAIL_BYTES = 4096;

/**
 * The last `lines` non-empty lines of a task's log, each escaped (a job's output is never interpreted by
 * the terminal: no colours, no cursor moves) and at most `cols` long. Empty when the log cannot be read.
 */
export function readLogTail(path: string | null, lines = 3, cols = 200): string[] {
  if (!path) return [];
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    let text = buf.toString('utf8');
    if (len < size) text = text.slice(text.indexOf('\n') + 1); // the first line read is likely cut
    return text.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('--- corral: attempt ')).slice(-lines).map((l) => {
      const v = visible(l);
      return v.length > cols ? `${v.slice(0, cols - 1)}…` : v;
    });
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
