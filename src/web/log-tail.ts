import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { openLedgerToRead } from '../ledger/db.ts';
import { jobsOfRun } from '../ledger/jobs.ts';
import { ledgerPath } from '../ledger/location.ts';
import { getRun } from '../ledger/runs.ts';

/** The most read of one log: a job that printed a 1 GB line costs 16 KiB here. */
const TAIL_BYTES = 16 * 1024;
const TAIL_LINES = 40;
const MAX_JOBS = 20;

export interface JobLogTail {
  id: string;
  name: string;
  path: string;
  lines: string[];
}

/**
 * The tail of each logged job of one run (the logs `corral logs RUN` prints), bounded in jobs, bytes and
 * lines. Null for a run the ledger does not have. The page shows the lines as text, never as markup.
 */
export function runLogTails(runId: string, env: NodeJS.ProcessEnv = process.env): JobLogTail[] | null {
  const db = openLedgerToRead(ledgerPath(env));
  try {
    if (!getRun(db, runId)) return null;
    return jobsOfRun(db, runId).filter((j) => j.log_path).slice(0, MAX_JOBS)
      .map((j) => ({ id: j.id, name: j.name, path: j.log_path!, lines: readTail(j.log_path!) }));
  } finally {
    db.close();
  }
}

/** The last lines of a regular file, never through a symbolic link; empty when it cannot be read. */
export function readTail(path: string): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) return [];
    const len = Math.min(st.size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, st.size - len);
    let text = buf.toString('utf8');
    if (len < st.size) text = text.slice(text.indexOf('\n') + 1); // the first line read is likely cut
    return text.split(/\r?\n/).filter((l) => l.trim()).slice(-TAIL_LINES);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
