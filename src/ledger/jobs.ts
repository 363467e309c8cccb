import type { Db } from './db.ts';

export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped' | 'skipped' | 'lost';

export interface JobRow {
  id: string;
  run_id: string;
  role: string;
  name: string;
  argv: string;
  gpus: string | null;
  cgroup: string | null;
  item: string | null;
  stage: string | null;
  log_path: string | null;
  state: JobState;
  attempts: number;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  stop_reason: string | null;
}

export function insertJob(db: Db, j: Pick<JobRow, 'id' | 'run_id' | 'role' | 'name' | 'argv'> & Partial<JobRow>): void {
  db.prepare(
    `INSERT INTO jobs (id, run_id, role, name, argv, gpus, cgroup, item, stage, log_path, state, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(j.id, j.run_id, j.role, j.name, j.argv, j.gpus ?? null, j.cgroup ?? null, j.item ?? null, j.stage ?? null, j.log_path ?? null, j.state ?? 'pending', j.started_at ?? null);
}

export function updateJob(db: Db, id: string, fields: Partial<Omit<JobRow, 'id'>>): void {
  const keys = Object.keys(fields);
  if (!keys.length) return;
  db.prepare(`UPDATE jobs SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`).run(
    ...(keys.map((k) => (fields as Record<string, never>)[k]) as never[]),
    id,
  );
}

export function jobsOfRun(db: Db, runId: string): JobRow[] {
  return db.prepare('SELECT * FROM jobs WHERE run_id = ? ORDER BY rowid').all(runId) as unknown as JobRow[];
}

export function getJob(db: Db, id: string): JobRow | undefined {
  return db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
}

export interface AttemptRow {
  id: number;
  job_id: string;
  run_id: string;
  n: number;
  pid: number | null;
  starttime: number | null;
  pgid: number | null;
  sid: number | null;
  cgroup: string | null;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  stop_reason: string | null;
  leftovers: string | null;
}

export function insertAttempt(db: Db, a: Omit<AttemptRow, 'id' | 'ended_at' | 'exit_code' | 'signal' | 'stop_reason' | 'leftovers'>): number {
  const r = db
    .prepare('INSERT INTO attempts (job_id, run_id, n, pid, starttime, pgid, sid, cgroup, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(a.job_id, a.run_id, a.n, a.pid, a.starttime, a.pgid, a.sid, a.cgroup, a.started_at);
  return Number(r.lastInsertRowid);
}

export function finishAttempt(db: Db, id: number, f: Pick<AttemptRow, 'ended_at' | 'exit_code' | 'signal' | 'stop_reason' | 'leftovers'>): void {
  db.prepare('UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?, stop_reason = ?, leftovers = ? WHERE id = ?').run(
    f.ended_at, f.exit_code, f.signal, f.stop_reason, f.leftovers, id,
  );
}

export function attemptsOfRun(db: Db, runId: string): AttemptRow[] {
  return db.prepare('SELECT * FROM attempts WHERE run_id = ? ORDER BY id').all(runId) as unknown as AttemptRow[];
}
