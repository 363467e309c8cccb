import { createReadStream, existsSync, statSync } from 'node:fs';
import { isOpen, writeWithBackpressure } from '../jobs/std-streams.ts';

/** Where a follower has got to in one job's log: the file it was reading (by inode) and how far. */
export interface LogCursor {
  ino: number;
  offset: number;
  /** at the start of a line: the next byte gets the [job] prefix */
  lineStart: boolean;
}

/**
 * Copies bytes [start, end) of a file to stdout in chunks, waiting whenever stdout is full, so that a
 * 700 MB log costs one chunk of memory. Returns false once stdout is closed (`| head`): stop there.
 */
async function streamRange(path: string, start: number, end: number, cur: LogCursor, prefix: string | null): Promise<boolean> {
  if (end <= start) return isOpen(process.stdout);
  for await (const chunk of createReadStream(path, { start, end: end - 1, highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    const out = prefix ? prefixLines(chunk, prefix, cur) : chunk;
    if (!(await writeWithBackpressure(process.stdout, out))) return false;
  }
  return true;
}

/** Puts the prefix before every non-empty line, across chunk boundaries, without building strings. */
function prefixLines(chunk: Buffer, prefix: string, cur: LogCursor): Buffer {
  const parts: Buffer[] = [];
  const p = Buffer.from(prefix);
  let from = 0;
  for (let i = 0; i < chunk.length; i++) {
    if (cur.lineStart && chunk[i] !== 0x0a) parts.push(chunk.subarray(from, i), p), (from = i);
    cur.lineStart = chunk[i] === 0x0a;
  }
  parts.push(chunk.subarray(from));
  return Buffer.concat(parts);
}

/**
 * Prints what was added to a job's log since the cursor. A log that rotated (PATH was renamed to PATH.1
 * and a new PATH begun) is noticed by its inode: the rest of the old file is read from PATH.1, then the
 * new one from its start. The first call prints PATH.1 (the older part kept by the cap) before PATH.
 */
export async function pumpLog(path: string, cur: LogCursor, prefix: string | null): Promise<boolean> {
  const now = statOf(path);
  const old = statOf(`${path}.1`);
  if (cur.ino === 0 && old && now) {
    if (!(await streamRange(`${path}.1`, 0, old.size, cur, prefix))) return false;
  } else if (cur.ino !== 0 && now && now.ino !== cur.ino) {
    if (old?.ino === cur.ino && !(await streamRange(`${path}.1`, cur.offset, old.size, cur, prefix))) return false;
    cur.offset = 0;
  }
  if (!now) return true;
  if (now.size < cur.offset) cur.offset = 0; // truncated by someone: start over
  cur.ino = now.ino;
  const end = now.size;
  if (!(await streamRange(path, cur.offset, end, cur, prefix))) return false;
  cur.offset = end;
  return true;
}

function statOf(path: string): { ino: number; size: number } | null {
  try {
    return existsSync(path) ? statSync(path) : null;
  } catch {
    return null;
  }
}
