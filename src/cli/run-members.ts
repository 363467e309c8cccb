import type { Db } from '../ledger/db.ts';
import type { RunRow } from '../ledger/runs.ts';
import { isLiveState } from '../proc/identity.ts';
import type { Snapshot } from '../proc/snapshot.ts';
import { scopesFromLedger } from '../supervise/ledger-scopes.ts';
import { collectMembers, protectedPids } from '../supervise/members.ts';
import type { Member } from '../supervise/scope.ts';

/**
 * The live processes that belong to a run by the ledger's data alone (cgroups, leaders' sessions,
 * registry, markers with the run's uid), judged against one snapshot. Of a lost run, these are its strays.
 */
export function membersOfRun(db: Db, run: RunRow, snap: Snapshot): Map<number, Member> {
  const members = collectMembers(scopesFromLedger(db, run), snap, protectedPids(snap, [run.sentinel_pid ?? 0]));
  // a zombie is not alive: it waits only for its parent (or init) to collect it
  for (const pid of members.keys()) if (!isLiveState(snap.get(pid)?.state)) members.delete(pid);
  return members;
}
