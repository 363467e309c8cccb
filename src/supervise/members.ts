import { cgroupPids } from '../os/cgroup.ts';
import { takeSnapshot, type Snapshot } from '../proc/snapshot.ts';
import { childrenMap, descendants } from '../proc/tree.ts';
import type { FoundBy, JobScope, Member } from './scope.ts';

/** Processes never treated as members: this process, its ancestors, a sentinel, init. */
export function protectedPids(snap: Snapshot, extra: Iterable<number> = []): Set<number> {
  const out = new Set<number>([0, 1, 2, process.pid, ...extra]);
  let cur = snap.get(process.pid)?.ppid ?? process.ppid;
  while (cur > 1 && !out.has(cur)) {
    out.add(cur);
    cur = snap.get(cur)?.ppid ?? 0;
  }
  return out;
}

/**
 * A snapshot restricted to processes young enough to be members: stat for everything (cheap), the
 * rest only for processes started since the oldest scope began. Keeps re-collection cheap on busy hosts.
 */
export function snapshotForScopes(scopes: JobScope[]): Snapshot {
  const since = Math.min(...scopes.map((s) => s.sinceTicks));
  return takeSnapshot({ filter: (st) => st.starttime >= since, cmdline: false, cgroup: false });
}

/** Step 1 of the teardown routine: the union of every containment mechanism, then their descendants. */
export function collectMembers(scopes: JobScope[], snap: Snapshot, exclude: Set<number>): Map<number, Member> {
  const members = new Map<number, Member>();
  const add = (pid: number, scope: JobScope, how: FoundBy) => {
    if (members.has(pid) || exclude.has(pid)) return;
    const p = snap.get(pid);
    if (!p || p.kernelThread || p.starttime < scope.sinceTicks) return;
    members.set(pid, { pid, starttime: p.starttime, jobId: scope.jobId, how });
  };
  for (const scope of scopes) {
    if (scope.cgroup) for (const pid of cgroupPids(scope.cgroup)) add(pid, scope, 'cgroup');
    const leader = scope.leader;
    for (const p of snap.values()) {
      if (leader && (p.sid === leader.pid || p.pgid === leader.pid) && p.starttime >= leader.starttime) add(p.pid, scope, 'session');
      const env = p.env;
      if (env && (scope.wholeRun ? env.runId === scope.runId : env.jobId === scope.jobId)) add(p.pid, scope, 'marker');
    }
    for (const id of scope.registry ?? []) if (snap.get(id.pid)?.starttime === id.starttime) add(id.pid, scope, 'registry');
    if (leader && snap.get(leader.pid)?.starttime === leader.starttime) add(leader.pid, scope, 'tree');
  }
  // Adopted orphans: re-parented to the supervisor, a subreaper. Only a whole-run scope takes them all
  // (ones that hid both marker and registry entry, as env -i does); a job scope takes those marked for it.
  for (const scope of scopes) {
    if (!scope.adopter) continue;
    for (const p of snap.values()) {
      if (p.ppid !== scope.adopter) continue;
      const env = p.env;
      const mine = scope.wholeRun ? !env?.runId || env.runId === scope.runId : env?.jobId === scope.jobId;
      if (mine) add(p.pid, scope, 'adopted');
    }
  }
  const kids = childrenMap(snap);
  for (const m of [...members.values()]) {
    const scope = scopes.find((s) => s.jobId === m.jobId)!;
    for (const pid of descendants(snap, [m.pid], kids)) add(pid, scope, 'tree');
  }
  return members;
}
