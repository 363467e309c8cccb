import type { Db } from '../ledger/db.ts';
import { attemptsOfRun, jobsOfRun, type JobRow } from '../ledger/jobs.ts';
import { registryOfRun } from '../ledger/registry.ts';
import type { RunRow } from '../ledger/runs.ts';
import { CLOCK_TICKS, bootTimeMs } from '../proc/clock.ts';
import type { JobScope } from './scope.ts';

export function ticksAt(ms: number): number {
  return Math.floor(((ms - bootTimeMs()) * CLOCK_TICKS) / 1000);
}

/**
 * Job scopes rebuilt from the ledger alone (no live supervisor needed): each job's cgroup, its open
 * attempt's leader (session and process group), its registry entries and markers, then a whole-run
 * scope for what carries only the run's marker or cgroup. Used by the sentinel, ps and reap.
 */
export function scopesFromLedger(db: Db, run: RunRow, opts: { jobs?: JobRow[] } = {}): JobScope[] {
  const sinceTicks = ticksAt(run.started_at) - 2;
  const jobs = opts.jobs ?? jobsOfRun(db, run.id);
  const attempts = attemptsOfRun(db, run.id);
  const registry = registryOfRun(db, run.id, { live: true });
  const scopes: JobScope[] = jobs.map((j) => {
    const a = attempts.filter((x) => x.job_id === j.id && x.ended_at === null).pop();
    return {
      runId: run.id, jobId: j.id, cgroup: j.cgroup, sinceTicks,
      leader: a?.pid && a.starttime !== null ? { pid: a.pid, starttime: a.starttime } : null,
      registry: registry.filter((r) => r.job_id === j.id),
    };
  });
  scopes.push({ runId: run.id, jobId: run.id, wholeRun: true, cgroup: run.cgroup, sinceTicks, registry });
  return scopes;
}
