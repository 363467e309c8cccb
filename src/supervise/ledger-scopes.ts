import type { Db } from '../ledger/db.ts';
import { attemptsOfRun, jobsOfRun, type JobRow } from '../ledger/jobs.ts';
import { registryOfRun } from '../ledger/registry.ts';
import { fromEarlierBoot, type RunRow } from '../ledger/runs.ts';
import { CLOCK_TICKS, currentBootId, uptimeMs } from '../proc/clock.ts';
import type { JobScope } from './scope.ts';

/**
 * A run's start in clock ticks since boot. Rows written before the ledger kept ticks fall back to the
 * wall clock, converted once here; every row written since uses the recorded ticks.
 */
export function runStartTicks(run: Pick<RunRow, 'start_ticks' | 'started_at'>): number {
  if (run.start_ticks !== null && run.start_ticks !== undefined) return run.start_ticks;
  return Math.floor(((run.started_at - (Date.now() - uptimeMs())) * CLOCK_TICKS) / 1000) - 2;
}

/**
 * Job scopes rebuilt from the ledger alone (no live supervisor needed): each job's cgroup, its open
 * attempt's leader (session and process group), its registry entries and markers, then a whole-run
 * scope for what carries only the run's marker or cgroup. Used by the sentinel, ps and reap. A run
 * from an earlier boot has no scopes: none of its identities can name a process of this boot.
 */
export function scopesFromLedger(db: Db, run: RunRow, opts: { jobs?: JobRow[] } = {}): JobScope[] {
  if (fromEarlierBoot(run, currentBootId())) return [];
  const sinceTicks = runStartTicks(run);
  const jobs = opts.jobs ?? jobsOfRun(db, run.id);
  const attempts = attemptsOfRun(db, run.id);
  const registry = registryOfRun(db, run.id, { live: true });
  const scopes: JobScope[] = jobs.map((j) => {
    const a = attempts.filter((x) => x.job_id === j.id && x.ended_at === null).pop();
    return {
      runId: run.id, jobId: j.id, cgroup: j.cgroup, sinceTicks, uid: run.uid,
      leader: a?.pid && a.starttime !== null ? { pid: a.pid, starttime: a.starttime } : null,
      registry: registry.filter((r) => r.job_id === j.id),
    };
  });
  scopes.push({ runId: run.id, jobId: run.id, wholeRun: true, cgroup: run.cgroup, sinceTicks, uid: run.uid, registry });
  return scopes;
}
