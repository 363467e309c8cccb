import type { Db } from '../ledger/db.ts';
import { addEvent } from '../ledger/events.ts';
import { recordLostRun } from '../ledger/lost-run.ts';
import { runState } from '../ledger/run-state.ts';
import { getRun } from '../ledger/runs.ts';
import { isPopulated, removeCgroup } from '../os/cgroup.ts';
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
      if (runState(run).lostUnrecorded) recordLostRun(db, runId, 'supervisor-lost');
      if (run.cgroup && !isPopulated(run.cgroup)) removeCgroup(run.cgroup);
    } catch {
      // another user's ledger or a read-only one: the reap itself happened; only its record is missing
    }
  }
}
