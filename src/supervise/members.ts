import { cgroupPids } from '../os/cgroup.ts';
import type { Identity } from '../proc/identity.ts';
import { takeSnapshot, takeSnapshotInSlices, type ProcInfo, type Snapshot, type SnapshotOptions } from '../proc/snapshot.ts';
import { childrenMap, descendants } from '../proc/tree.ts';
import { ownChildren } from './reaper.ts';
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
 * Nothing older can share a job's session or group: both are created by the job's own setsid.
 */
export function snapshotForScopes(scopes: JobScope[]): Snapshot {
  return takeSnapshot(scopeSnapshotOptions(scopes));
}

function scopeSnapshotOptions(scopes: JobScope[]): SnapshotOptions {
  const since = Math.min(...scopes.map((s) => s.sinceTicks));
  return { filter: (st) => st.starttime >= since, cmdline: false, cgroup: false };
}

/** The same snapshot taken in slices (takeSnapshotInSlices): the registry poller's background pass. */
export function snapshotForScopesInSlices(scopes: JobScope[], abandoned: () => boolean, slice = 64): Promise<Snapshot | null> {
  return takeSnapshotInSlices(scopeSnapshotOptions(scopes), abandoned, slice);
}

/** A process a mechanism pointed at that the rules do not let be a member: it is reported, never signalled. */
export interface Refused extends Identity {
  jobId: string;
  uid: number;
  why: 'marker-other-uid' | 'not-admitted';
}

export interface CollectOptions {
  /** the caller's own rules (reap's plan): a process they refuse is never a member, however it was found */
  admit?: (p: ProcInfo) => boolean;
  /** filled with what was found but refused, so it can be reported */
  refused?: Map<number, Refused>;
}

/** The uid a job runs as: a marker on another uid's process can be forged, so it alone proves nothing. */
function jobUid(scope: JobScope): number {
  return scope.uid ?? process.getuid?.() ?? -1;
}

/** True while the leader's pid still names the leader (a zombie leader still holds it): its session id cannot have been reused. */
export function leaderHeld(leader: Identity | null | undefined, snap: Snapshot): leader is Identity {
  return !!leader && leader.pid > 1 && snap.get(leader.pid)?.starttime === leader.starttime;
}

/**
 * Step 1 of the teardown routine: the union of every containment mechanism, then their descendants.
 * A process is a member only by a rule that holds now: the job's cgroup; the session or group of a
 * leader whose identity is still held (a reused pid's new session is not the job's); descent from a
 * member; adoption by the supervisor; a registry identity; or a marker together with the job's uid.
 */
export function collectMembers(scopes: JobScope[], snap: Snapshot, exclude: Set<number>, opts: CollectOptions = {}): Map<number, Member> {
  const members = new Map<number, Member>();
  const refused = new Map<number, Refused>();
  const add = (pid: number, scope: JobScope, how: FoundBy) => {
    if (members.has(pid) || exclude.has(pid)) return;
    const p = snap.get(pid);
    if (!p || p.kernelThread || p.starttime < scope.sinceTicks) return;
    if (opts.admit && !opts.admit(p)) {
      refused.set(pid, { pid, starttime: p.starttime, jobId: scope.jobId, uid: p.uid, why: 'not-admitted' });
      return;
    }
    refused.delete(pid);
    members.set(pid, { pid, starttime: p.starttime, jobId: scope.jobId, how });
  };
  for (const scope of scopes) {
    if (scope.cgroup) for (const pid of cgroupPids(scope.cgroup)) add(pid, scope, 'cgroup');
    const leader = leaderHeld(scope.leader, snap) ? scope.leader : null;
    const uid = jobUid(scope);
    for (const p of snap.values()) {
      if (leader && (p.sid === leader.pid || p.pgid === leader.pid) && p.starttime >= leader.starttime) add(p.pid, scope, 'session');
      const env = p.env;
      if (env && (scope.wholeRun ? env.runId === scope.runId : env.jobId === scope.jobId)) {
        if (p.uid === uid) add(p.pid, scope, 'marker');
        else if (!members.has(p.pid) && !exclude.has(p.pid)) refused.set(p.pid, { pid: p.pid, starttime: p.starttime, jobId: scope.jobId, uid: p.uid, why: 'marker-other-uid' });
      }
    }
    for (const id of scope.registry ?? []) if (snap.get(id.pid)?.starttime === id.starttime) add(id.pid, scope, 'registry');
    if (leader) add(leader.pid, scope, 'tree');
  }
  // Adopted orphans: re-parented to the supervisor, a subreaper. Only a whole-run scope takes them all
  // (ones that hid both marker and registry entry, as env -i does); a job scope takes those marked for it.
  // Children Node itself started (nvidia-smi during preflight, the sentinel) are corral's own, not adopted.
  for (const scope of scopes) {
    if (!scope.adopter) continue;
    for (const p of snap.values()) {
      if (p.ppid !== scope.adopter || (scope.adopter === process.pid && ownChildren.has(p.pid))) continue;
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
  for (const pid of members.keys()) refused.delete(pid);
  if (opts.refused) for (const [pid, r] of refused) opts.refused.set(pid, r);
  return members;
}
