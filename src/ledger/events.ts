import type { Db } from './db.ts';

export interface EventRow {
  id: number;
  run_id: string;
  job_id: string | null;
  at: number;
  kind: string;
  data: string | null;
}

export function addEvent(db: Db, runId: string, jobId: string | null, kind: string, data?: unknown, at = Date.now()): void {
  db.prepare('INSERT INTO events (run_id, job_id, at, kind, data) VALUES (?, ?, ?, ?, ?)').run(
    runId, jobId, at, kind, data === undefined ? null : JSON.stringify(data),
  );
}

export function eventsOfRun(db: Db, runId: string): EventRow[] {
  return db.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY at, id').all(runId) as unknown as EventRow[];
}
