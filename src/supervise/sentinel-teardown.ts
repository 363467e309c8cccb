import { openLedger } from '../ledger/db.ts';
import { addEvent } from '../ledger/events.ts';
import { attemptsOfRun, jobsOfRun, updateJob, finishAttempt } from '../ledger/jobs.ts';
import { getRun, updateRun } from '../ledger/runs.ts';
import { removeCgroup } from '../os/cgroup.ts';
import { scopesFromLedger } from './ledger-scopes.ts';
import { isAlive } from '../proc/identity.ts';
import { teardown } from './teardown.ts';
import { ticksNow } from '../proc/clock.ts';

/**
 * What the sentinel runs when the supervisor's pipe closes without the clean mark: the same teardown,
 * for every unfinished job of the run, from ledger data alone (cgroups, leaders' sessions, markers,
 * registry), then `supervisor-lost` in the ledger.
 */
export async function sentinelTeardown(runId: string, log: (s: string) => void): Promise<number> {
  const db = openLedger();
  const run = getRun(db, runId);
  if (!run) {
    log(`sentinel: run ${runId} is not in the ledger`);
    return 1;
  }
  if (run.status !== 'running') return 0;
  if (run.supervisor_pid && run.supervisor_starttime && isAlive({ pid: run.supervisor_pid, starttime: run.supervisor_starttime })) {
    log(`sentinel: supervisor ${run.supervisor_pid} is still alive; its pipe closed unexpectedly, tearing down anyway`);
  }
  const config = JSON.parse(run.config ?? '{}') as { graceMs?: number; stopSignal?: NodeJS.Signals };
  const jobs = jobsOfRun(db, runId).filter((j) => j.state === 'running' || j.state === 'pending');
  const attempts = attemptsOfRun(db, runId);
  const scopes = scopesFromLedger(db, run, { jobs });
  const started = Date.now();
  const result = await teardown(scopes, { signal: config.stopSignal ?? 'SIGTERM', graceMs: config.graceMs ?? 10_000 });
  if (run.cgroup) removeCgroup(run.cgroup);
  const now = Date.now();
  for (const j of jobs) updateJob(db, j.id, { state: 'lost', ended_at: now, stop_reason: 'supervisor-lost' });
  for (const a of attempts) if (a.ended_at === null) finishAttempt(db, a.id, { ended_at: now, exit_code: null, signal: null, stop_reason: 'supervisor-lost', leftovers: null });
  updateRun(db, runId, { status: 'lost', stop_reason: 'supervisor-lost', ended_at: now, end_ticks: ticksNow() });
  addEvent(db, runId, null, 'supervisor-lost', { members: result.members.length, leftovers: result.leftovers, teardownMs: now - started });
  log(`sentinel: run ${runId} lost its supervisor; stopped ${result.members.length} process(es) in ${now - started}ms, ${result.leftovers.length} left`);
  db.close();
  return result.leftovers.length ? 1 : 0;
}
