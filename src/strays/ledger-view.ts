import type { Db } from '../ledger/db.ts';
import { eventsOfRun, type EventRow } from '../ledger/events.ts';
import { attemptsOfRun, getJob, type AttemptRow, type JobRow } from '../ledger/jobs.ts';
import type { RegistryRow } from '../ledger/registry.ts';
import { getRun, runsActiveAt, type RunRow } from '../ledger/runs.ts';
import { currentBootId } from '../proc/clock.ts';
import { identityKey, isLiveState, type Identity } from '../proc/identity.ts';
import type { Snapshot } from '../proc/snapshot.ts';
import type { RunFacts } from './types.ts';

/** What the scanner asks the ledger, behind an interface so that recorded snapshots classify without one. */
export interface LedgerView {
  registryEntry(id: Identity): RegistryRow | undefined;
  run(runId: string): RunRow | undefined;
  /** runs of this boot active at a moment in clock ticks since boot */
  activeAt(ticks: number): RunRow[];
  /** a run's own supervisor or sentinel process */
  roleOf(id: Identity): { runId: string; role: 'supervisor' | 'sentinel' } | undefined;
  job(jobId: string): JobRow | undefined;
  attempts(runId: string): AttemptRow[];
  events(runId: string): EventRow[];
}

export const EMPTY_LEDGER: LedgerView = {
  registryEntry: () => undefined,
  run: () => undefined,
  activeAt: () => [],
  roleOf: () => undefined,
  job: () => undefined,
  attempts: () => [],
  events: () => [],
};

function cached<K, V>(fn: (k: K) => V): (k: K) => V {
  const memo = new Map<K, V>();
  return (k) => {
    if (!memo.has(k)) memo.set(k, fn(k));
    return memo.get(k)!;
  };
}

/** A read-only view of one ledger, cached for the length of one scan. */
export function ledgerViewOf(db: Db): LedgerView {
  let roles: Map<string, { runId: string; role: 'supervisor' | 'sentinel' }> | undefined;
  const loadRoles = () => {
    roles = new Map();
    const rows = db.prepare('SELECT id, supervisor_pid, supervisor_starttime, sentinel_pid, sentinel_starttime FROM runs').all() as unknown as RunRow[];
    for (const r of rows) {
      if (r.supervisor_pid && r.supervisor_starttime !== null) roles.set(identityKey({ pid: r.supervisor_pid, starttime: r.supervisor_starttime }), { runId: r.id, role: 'supervisor' });
      if (r.sentinel_pid && r.sentinel_starttime !== null) roles.set(identityKey({ pid: r.sentinel_pid, starttime: r.sentinel_starttime }), { runId: r.id, role: 'sentinel' });
    }
    return roles;
  };
  // one statement for every process of the scan (lookupIdentity prepares one per call)
  const byIdentity = db.prepare('SELECT * FROM registry WHERE pid = ? AND starttime = ?');
  return {
    registryEntry: (id) => byIdentity.get(id.pid, id.starttime) as RegistryRow | undefined,
    run: cached((id: string) => getRun(db, id)),
    // asked once per process in a tmux window, most of them sharing the window's start
    activeAt: cached((ticks: number) => runsActiveAt(db, currentBootId(), ticks)),
    roleOf: (id) => (roles ?? loadRoles()).get(identityKey(id)),
    job: cached((id: string) => getJob(db, id)),
    attempts: cached((id: string) => attemptsOfRun(db, id)),
    events: cached((id: string) => eventsOfRun(db, id)),
  };
}

function aliveIn(snap: Snapshot, pid: number | null, starttime: number | null): boolean {
  if (!pid || starttime === null) return false;
  const p = snap.get(pid);
  return p !== undefined && p.starttime === starttime && isLiveState(p.state);
}

/** A run row with the liveness of its supervisor and sentinel, judged against the same snapshot. */
export function runFacts(row: RunRow, snap: Snapshot): RunFacts {
  const supervisorAlive = aliveIn(snap, row.supervisor_pid, row.supervisor_starttime);
  const sentinelAlive = aliveIn(snap, row.sentinel_pid, row.sentinel_starttime);
  return {
    id: row.id, name: row.name, status: row.status, stopReason: row.stop_reason, startedAt: row.started_at, endedAt: row.ended_at,
    uid: row.uid, user: row.user, cwd: row.cwd, supervisorAlive, sentinelAlive,
    live: row.status === 'running' && (supervisorAlive || sentinelAlive),
  };
}
