import type { Db } from './db.ts';
import { addEvent } from './events.ts';
import { attemptsOfRun, finishAttempt, jobsOfRun, updateJob, type JobRow } from './jobs.ts';
import { updateRun } from './runs.ts';
import { ticksNow } from '../proc/clock.ts';

/** The jobs of a run that never got an end of their own. */
export function unfinishedJobs(db: Db, runId: string): JobRow[] {
  return jobsOfRun(db, runId).filter((j) => j.state === 'running' || j.state === 'pending');
}

/**
 * Records a run that nobody of corral will end any more (its supervisor died; the sentinel, `corral stop`
 * or `reap` tore it down) as lost: its unfinished jobs and open attempts end with `reason`, and the run
 * gets its end in clock ticks since boot (so "active when a process started" stops there) and in wall-clock
 * time for people to read. One routine for every path, so the three records cannot drift apart.
 */
export function recordLostRun(db: Db, runId: string, reason: string, opts: { jobs?: JobRow[]; event?: { kind: string; data: Record<string, unknown> } } = {}): void {
  const now = Date.now();
  for (const j of opts.jobs ?? unfinishedJobs(db, runId)) updateJob(db, j.id, { state: 'lost', ended_at: now, stop_reason: reason });
  for (const a of attemptsOfRun(db, runId)) {
    if (a.ended_at === null) finishAttempt(db, a.id, { ended_at: now, exit_code: null, signal: null, stop_reason: reason, leftovers: null });
  }
  updateRun(db, runId, { status: 'lost', stop_reason: reason, ended_at: now, end_ticks: ticksNow() });
  if (opts.event) addEvent(db, runId, null, opts.event.kind, opts.event.data);
}
