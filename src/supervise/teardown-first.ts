import { isChildSubreaper } from '../os/ffi.ts';
import { ticksNow } from '../proc/clock.ts';
import type { Identity } from '../proc/identity.ts';
import { signalGroupOf } from '../proc/signal.ts';
import type { Snapshot } from '../proc/snapshot.ts';
import { readStat } from '../proc/stat.ts';
import { ownChildren } from './reaper.ts';
import type { JobScope, Member } from './scope.ts';

/** A leader's group signalled before the teardown's first /proc scan. */
export interface EarlyGroup {
  jobId: string;
  leader: Identity;
  pgid: number;
  /** clock ticks read just before the signal: a process started before this tick was in the group then */
  ticks: number;
}

/**
 * The stop signal (and SIGCONT) to each live leader's whole group before any /proc scan: the scan of
 * every process takes tens of ms (far more on a busy host), and every member waits for it. Safe without
 * the scan because the leader's identity, checked through its pidfd, proves it still leads its own
 * session and group: corral made that session with setsid and nothing can join a session from outside,
 * so everything in the group is a descendant of the leader, younger than it, and a member by the
 * session rule. Only where nothing is lost by killing first:
 * - no caller rules (a reap plan's admit decides per process, so it needs the scan first);
 * - this process is a child subreaper and the leader's parent: a member outside the group whose parent
 *   dies is re-parented here, where adoptedSince() finds it (descent from the dead parent is gone);
 * - no excluded pid (the sentinel) is in the group. This process and its ancestors cannot be: they are
 *   older than the session;
 * - the orphans of killed parents can be told apart (withAdopted): the job has a cgroup (its members are
 *   found there whoever their parent is), or it is the run's only job. Without either (a pool or sidecars
 *   with CORRAL_CGROUP=off) an unmarked orphan could be another job's, so such a job is scanned first.
 */
export function signalGroupsFirst(scopes: JobScope[], signal: NodeJS.Signals, exclude: Iterable<number> = []): EarlyGroup[] {
  const out: EarlyGroup[] = [];
  const leaders = scopes.filter((s) => s.leader && s.leader.pid > 1);
  if (!leaders.length || !subreaper()) return out;
  const excluded = [...exclude].map((pid) => readStat(pid)?.pgid);
  for (const scope of leaders) {
    if (!scope.cgroup && !scope.soleJob) continue;
    const leader = scope.leader!;
    const st = readStat(leader.pid);
    if (!st || st.starttime !== leader.starttime || st.ppid !== process.pid || excluded.includes(leader.pid)) continue;
    const ticks = ticksNow();
    const pgid = signalGroupOf(leader, signal, 'SIGCONT');
    if (pgid !== null) out.push({ jobId: scope.jobId, leader, pgid, ticks });
  }
  return out;
}

function subreaper(): boolean {
  try {
    return isChildSubreaper();
  } catch {
    return false; // no koffi: no pidfds either, so no group signal
  }
}

/**
 * Scopes that also hold the orphans adopted from an early-signalled job: a process re-parented to this
 * subreaper, younger than the leader (so not from an earlier attempt or the run's start), carrying this
 * job's marker, or no marker at all when the job is the run's only one. A member outside the group whose
 * parent the group signal killed is one; it is then found (and, being a member, signalled) as the scan
 * before the signal would have found it. In a run of several jobs an unmarked orphan is taken by none of
 * them here (it could be any job's): a job with a cgroup still finds its own there, and the run's
 * whole-run scope takes the rest at its end; only one that also left its job's cgroup, and that no
 * registry pass saw, waits for the run's end.
 */
export function withAdopted(scopes: JobScope[], early: EarlyGroup[], snap: Snapshot): JobScope[] {
  if (!early.length) return scopes;
  return scopes.map((s) => {
    const g = early.find((e) => e.jobId === s.jobId);
    if (!g) return s;
    const adopted: Identity[] = [];
    for (const p of snap.values()) {
      if (p.ppid !== process.pid || ownChildren.has(p.pid) || p.starttime < g.leader.starttime) continue;
      if ((p.env?.jobId ?? s.jobId) !== s.jobId || (p.env?.runId ?? s.runId) !== s.runId) continue;
      if (!p.env?.jobId && !s.soleJob) continue;
      adopted.push({ pid: p.pid, starttime: p.starttime });
    }
    return adopted.length ? { ...s, registry: [...(s.registry ?? []), ...adopted] } : s;
  });
}

/** Members the early group signal reached: in its group, and started before it was sent. */
export function reachedEarly(m: Member, early: EarlyGroup[], snap: Snapshot): boolean {
  const pgid = snap.get(m.pid)?.pgid;
  return early.some((g) => g.jobId === m.jobId && g.pgid === pgid && m.starttime < g.ticks);
}
