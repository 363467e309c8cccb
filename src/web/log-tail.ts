import { openLedgerToRead } from '../ledger/db.ts';
import { jobsOfRun } from '../ledger/jobs.ts';
import { ledgerPath } from '../ledger/location.ts';
import { getRun } from '../ledger/runs.ts';
import { readFileTail } from '../os/file-tail.ts';

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

/** The last lines of a job's log (a regular file, never through a link); empty when it cannot be read. */
export function readTail(path: string): string[] {
  return readFileTail(path, TAIL_BYTES).slice(-TAIL_LINES);
}
