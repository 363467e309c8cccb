import { readFileTail } from '../os/file-tail.ts';
import { visible } from '../cli/output.ts';

/** The most of a log read for its tail: a task that printed a 1 GB line costs 4 KiB here. */
const TAIL_BYTES = 4096;

/**
 * The last `lines` non-empty lines of a task's log, each escaped (a job's output is never interpreted by
 * the terminal: no colours, no cursor moves) and at most `cols` long. Empty when the log cannot be read.
 */
export function readLogTail(path: string | null, lines = 3, cols = 200): string[] {
  if (!path) return [];
  return readFileTail(path, TAIL_BYTES).filter((l) => !l.startsWith('--- corral: attempt ')).slice(-lines).map((l) => {
    const v = visible(l);
    return v.length > cols ? `${v.slice(0, cols - 1)}…` : v;
  });
}
