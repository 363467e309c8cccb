import type { Db } from '../ledger/db.ts';
import type { JobRow } from '../ledger/jobs.ts';
import { resolveJobRef, resolveRunRef } from '../ledger/refs.ts';
import type { RunRow } from '../ledger/runs.ts';
import { isLiveState, type Identity } from '../proc/identity.ts';
import type { Snapshot } from '../proc/snapshot.ts';
import { scopesFromLedger } from '../supervise/ledger-scopes.ts';
import type { JobScope } from '../supervise/scope.ts';

/** A run by the one reference grammar (refs.ts); unknown or ambiguous is a usage error. */
export function resolveRun(db: Db, ref: string): RunRow {
  return resolveRunRef(db, ref);
}

/** A job by full id (RUN.NAME), or RUNREF.NAME with any run reference (`last.main`, `last.sample.3`). */
export function resolveJob(db: Db, ref: string): { run: RunRow; job: JobRow } {
  return resolveJobRef(db, ref);
}

function aliveIdentity(snap: Snapshot, pid: number | null, starttime: number | null): Identity | null {
  if (!pid || starttime === null) return null;
  const p = snap.get(pid);
  return p && p.starttime === starttime && isLiveState(p.state) ? { pid, starttime } : null;
}

/**
 * Every scope of a run, from the ledger. A run whose supervisor still lives (reap --force) gets its
 * supervisor and sentinel too, each in a scope of its own: stopping the jobs under a live supervisor
 * would only make it restart them, and both started before the run's start, so the run's own scopes
 * (nothing older than the run) could never reach them.
 */
export function runScopes(db: Db, run: RunRow, snap: Snapshot): JobScope[] {
  const scopes = scopesFromLedger(db, run);
  const extra = [aliveIdentity(snap, run.supervisor_pid, run.supervisor_starttime), aliveIdentity(snap, run.sentinel_pid, run.sentinel_starttime)];
  for (const id of extra) if (id) scopes.push({ ...identityScope(id, run.id), jobId: run.id });
  return scopes;
}

export function jobScopes(db: Db, run: RunRow, job: JobRow): JobScope[] {
  return scopesFromLedger(db, run, { jobs: [job] }).filter((s) => !s.wholeRun);
}

/** A scope for one process found by pid or by the stray scan: the process and, by the tree closure, its subtree. */
export function identityScope(id: Identity, runId?: string): JobScope {
  return { runId: runId ?? 'reap', jobId: `pid ${id.pid}`, registry: [{ pid: id.pid, starttime: id.starttime }], sinceTicks: id.starttime };
}
