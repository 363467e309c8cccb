import type { Db } from '../ledger/db.ts';
import { addEvent } from '../ledger/events.ts';
import { jobsOfRun, updateJob } from '../ledger/jobs.ts';
import { getRun, updateRun } from '../ledger/runs.ts';
import { isPopulated, removeCgroup } from '../os/cgroup.ts';
import { isAlive } from '../proc/identity.ts';
import type { ReapResult } from './execute.ts';
import type { ReapPlan } from './plan.ts';

/**
 * Writes the reap into each touched run's timeline. A run still marked running whose supervisor and
 * sentinel are both gone never gets an end from anyone else: reap records it as supervisor-lost and
 * removes its emptied cgroup.
 */
export function recordReap(db: Db, plan: ReapPlan, res: ReapResult, now = Date.now()): void {
  for (const runId of plan.runIds) {
    const run = getRun(db, runId);
    if (!run) continue;
    const killed = res.killed.filter((k) => k.runId === runId || plan.selectors.run !== undefined).length;
    const remaining = res.remaining.filter((r) => r.why !== 'skipped').length;
    try {
      addEvent(db, runId, null, 'reap', { killed, remaining, uid: process.getuid?.() ?? null }, now);
      const alive = (pid: number | null, st: number | null) => pid !== null && st !== null && isAlive({ pid, starttime: st });
      if (run.status === 'running' && !alive(run.supervisor_pid, run.supervisor_starttime) && !alive(run.sentinel_pid, run.sentinel_starttime)) {
        updateRun(db, runId, { status: 'lost', stop_reason: 'supervisor-lost', ended_at: now });
        for (const j of jobsOfRun(db, runId)) {
          if (j.state === 'running' || j.state === 'pending') updateJob(db, j.id, { state: 'lost', stop_reason: 'supervisor-lost', ended_at: now });
        }
      }
      if (run.cgroup && !isPopulated(run.cgroup)) removeCgroup(run.cgroup);
    } catch {
      // another user's ledger or a read-only one: the reap itself happened; only its record is missing
    }
  }
}
