import type { Db } from './db.ts';
import type { Identity } from '../proc/identity.ts';

export interface RegistryRow {
  pid: number;
  starttime: number;
  run_id: string;
  job_id: string | null;
  ppid: number | null;
  uid: number | null;
  comm: string | null;
  cmdline: string | null;
  how: string | null;
  first_seen: number;
  gone_at: number | null;
}

export interface Sighting extends Identity {
  jobId: string | null;
  ppid: number;
  uid: number;
  comm: string;
  cmdline: string[];
  /** which containment mechanism saw it: cgroup, session, tree, adopted, marker */
  how: string;
}

/** Records processes seen in a run; a process already known keeps its first attribution. */
export function registerProcesses(db: Db, runId: string, seen: Sighting[], now = Date.now()): void {
  if (!seen.length) return;
  const stmt = db.prepare(
    `INSERT OR IGNORE INTO registry (pid, starttime, run_id, job_id, ppid, uid, comm, cmdline, how, first_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.exec('BEGIN');
  try {
    for (const s of seen) stmt.run(s.pid, s.starttime, runId, s.jobId, s.ppid, s.uid, s.comm, JSON.stringify(s.cmdline), s.how, now);
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

export function markGone(db: Db, ids: Identity[], now = Date.now()): void {
  if (!ids.length) return;
  const stmt = db.prepare('UPDATE registry SET gone_at = ? WHERE pid = ? AND starttime = ? AND gone_at IS NULL');
  db.exec('BEGIN');
  try {
    for (const id of ids) stmt.run(now, id.pid, id.starttime);
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

export function registryOfRun(db: Db, runId: string, opts: { live?: boolean; jobId?: string } = {}): RegistryRow[] {
  let sql = 'SELECT * FROM registry WHERE run_id = ?';
  const args: string[] = [runId];
  if (opts.jobId) {
    sql += ' AND job_id = ?';
    args.push(opts.jobId);
  }
  if (opts.live) sql += ' AND gone_at IS NULL';
  return db.prepare(sql).all(...args) as unknown as RegistryRow[];
}

/** Registry rows for a set of identities, for attributing live processes to runs. */
export function lookupIdentity(db: Db, id: Identity): RegistryRow | undefined {
  return db.prepare('SELECT * FROM registry WHERE pid = ? AND starttime = ?').get(id.pid, id.starttime) as RegistryRow | undefined;
}
