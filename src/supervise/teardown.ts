import { setTimeout as sleep } from 'node:timers/promises';
import { isPopulated, killCgroup } from '../os/cgroup.ts';
import { identityKey, isAlive } from '../proc/identity.ts';
import { signalGroupOf, signalIdentity } from '../proc/signal.ts';
import type { Snapshot } from '../proc/snapshot.ts';
import { cgroupPids } from '../os/cgroup.ts';
import { readProc } from '../proc/snapshot.ts';
import { collectMembers, leaderHeld, protectedPids, snapshotForScopes, type CollectOptions, type Refused } from './members.ts';
import { reapAdopted } from './reaper.ts';
import { reachedEarly, signalGroupsFirst, withAdopted } from './teardown-first.ts';
import type { JobScope, Member } from './scope.ts';
import { describeLeftover, type Leftover } from './leftovers.ts';
import { monotonicMs } from '../proc/clock.ts';

export interface TeardownOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
  /** after SIGKILL, how long to wait before calling what is left unkillable */
  unkillableMs?: number;
  /** pids that are never members (the sentinel) */
  exclude?: Iterable<number>;
  pollMs?: number;
  /**
   * a snapshot the caller took a moment before for scopes that start no later than these (the run's final
   * registry pass): the first round uses it instead of scanning /proc a second time in a row
   */
  snapshot?: Snapshot | null;
  /** skip the grace period: SIGKILL at once (a second Ctrl-C) */
  immediate?: boolean;
  /** a later call (second Ctrl-C) can cut the grace short */
  abort?: AbortSignal;
  onSignalled?: (m: Member, sig: string) => void;
  /** the caller's rules (reap's plan): applied to every member, including ones found after the plan */
  admit?: CollectOptions['admit'];
}

export interface TeardownResult {
  /** every member signalled, keyed by job */
  members: Member[];
  killed: number;
  leftovers: Leftover[];
  ms: number;
  escalated: boolean;
  /** found by a mechanism but refused by the rules (a marker on another uid's process, not admitted): never signalled */
  refused: Refused[];
}

/**
 * The one teardown routine (DESIGN.md): signal every member with the stop signal and SIGCONT, re-collect
 * through the grace period, SIGKILL what is left, and wait until the set is verified empty. Never hangs:
 * what survives the unkillable timeout is returned as leftovers with its state, wchan and owner.
 */
export async function teardown(scopes: JobScope[], opts: TeardownOptions = {}): Promise<TeardownResult> {
  const started = monotonicMs();
  if (provablyEmpty(scopes)) return { members: [], killed: 0, leftovers: [], ms: monotonicMs() - started, escalated: false, refused: [] };
  const stopSignal = opts.signal ?? 'SIGTERM';
  const grace = opts.immediate ? 0 : (opts.graceMs ?? 10_000);
  const unkillable = opts.unkillableMs ?? 5_000;
  const poll = opts.pollMs ?? 20;
  const all = new Map<string, Member>();
  const eperm = new Set<string>();
  const sentStop = new Set<string>();
  const sentKill = new Set<string>();
  // Where it is safe, each live leader's whole group gets the stop signal before the first scan.
  const early = grace > 0 && !opts.admit ? signalGroupsFirst(scopes, stopSignal, opts.exclude) : [];
  let snap: Snapshot = opts.snapshot ?? snapshotForScopes(scopes);
  const exclude = protectedPids(snap, opts.exclude);
  let escalated = false;
  let emptied = false;
  // Members in the current snapshot; collect() takes a new one first. The first round uses the snapshot
  // already taken for protectedPids: a second full /proc scan there would see the same.
  const refused = new Map<number, Refused>();
  // A member stays one while its identity lives: once the leader is gone its session rule no longer
  // holds, and a member the registry had not yet seen (or that changed uid) must not drop out of the set.
  const withKnown = (): JobScope[] =>
    all.size ? scopes.map((s) => ({ ...s, registry: [...(s.registry ?? []), ...[...all.values()].filter((m) => m.jobId === s.jobId)] })) : scopes;
  const gather = (): Map<number, Member> => {
    reapAdopted(snap);
    const found = collectMembers(withAdopted(withKnown(), early, snap), snap, exclude, { admit: opts.admit, refused });
    for (const m of found.values()) all.set(identityKey(m), m);
    return found;
  };
  const collect = (): Map<number, Member> => {
    snap = snapshotForScopes(scopes);
    return gather();
  };
  const send = (m: Member, sig: NodeJS.Signals, sent: Set<string>, then?: NodeJS.Signals) => {
    const key = identityKey(m);
    if (sent.has(key) || eperm.has(key)) return;
    sent.add(key);
    const r = signalIdentity(m, sig, then);
    if (r === 'eperm') {
      eperm.add(key);
      if (then) signalIdentity(m, then); // SIGCONT may still be allowed (same session)
    } else if (r === 'sent') opts.onSignalled?.(m, sig);
  };
  // A zombie is dead: only a zombie we (or a member) must still reap keeps the set non-empty.
  const present = (found: Map<number, Member>) =>
    [...found.values()].filter((m) => {
      const p = snap.get(m.pid);
      if (!p || p.state !== 'Z') return true;
      return p.ppid === process.pid || found.has(p.ppid);
    });
  // A member we may not signal blocks only where cgroup.kill can still reach it (it checks no permission).
  const inCgroup = new Set(scopes.filter((s) => s.cgroup).map((s) => s.jobId));
  const pending = (found: Map<number, Member>) => present(found).filter((m) => !eperm.has(identityKey(m)) || inCgroup.has(m.jobId));

  let found = gather();
  if (grace > 0) {
    const deadline = monotonicMs() + grace;
    for (const m of found.values()) {
      if (!reachedEarly(m, early, snap)) continue;
      sentStop.add(identityKey(m));
      opts.onSignalled?.(m, stopSignal);
    }
    // Otherwise, each live leader's whole group in one call; then members outside those groups one by one.
    for (const scope of scopes) {
      if (early.some((g) => g.jobId === scope.jobId)) continue;
      if (!groupIsAllMembers(scope, snap, found)) continue;
      const pgid = signalGroupOf(scope.leader!, stopSignal, 'SIGCONT');
      if (pgid === null) continue;
      for (const m of found.values()) {
        if (snap.get(m.pid)?.pgid !== pgid) continue;
        sentStop.add(identityKey(m));
        opts.onSignalled?.(m, stopSignal);
      }
    }
    while (true) {
      for (const m of found.values()) {
        // SIGCONT after the stop signal: a stopped process then wakes with the signal already pending.
        // Later rounds wake only members found stopped again (one signal each, not one per member).
        if (!sentStop.has(identityKey(m))) send(m, stopSignal, sentStop, 'SIGCONT');
        else if (/^[Tt]$/.test(snap.get(m.pid)?.state ?? '')) signalIdentity(m, 'SIGCONT');
      }
      if (!pending(found).length) {
        emptied = true;
        break;
      }
      if (monotonicMs() >= deadline || opts.abort?.aborted) break;
      await sleep(poll);
      found = collect();
    }
  }
  // A set just collected and found empty is verified; otherwise collect once more before escalating.
  if (!emptied) found = collect();
  if (pending(found).length) {
    escalated = true;
    for (const s of scopes) if (s.cgroup && cgroupIsAllMembers(s.cgroup, found, exclude, refused, opts.admit)) killCgroup(s.cgroup);
    const deadline = monotonicMs() + unkillable;
    while (true) {
      for (const m of found.values()) send(m, 'SIGKILL', sentKill);
      // a second Ctrl-C after one SIGKILL round: what is left is reported, not waited for
      if (!pending(found).length || monotonicMs() >= deadline || opts.abort?.aborted) break;
      await sleep(poll);
      found = collect();
    }
  }
  const leftovers = present(found).map((m) => describeLeftover(m, snap, eperm.has(identityKey(m))));
  // a process refused in one round and a member in another (found by a real tie later) is a member
  const memberPids = new Set([...all.values()].map((m) => m.pid));
  return { members: [...all.values()], killed: sentKill.size, leftovers, ms: monotonicMs() - started, escalated, refused: [...refused.values()].filter((r) => !memberPids.has(r.pid)) };
}

/**
 * A group-wide signal reaches every process in the leader's group, so it is sent only when each of them
 * is a collected member: none excluded, none refused, none unknown. Nothing older than the job can be in
 * the group (setsid made it), so the scope's snapshot sees all of it. Otherwise members go one by one.
 */
function groupIsAllMembers(scope: JobScope, snap: Snapshot, found: Map<number, Member>): boolean {
  if (!leaderHeld(scope.leader, snap)) return false;
  const pgid = scope.leader.pid;
  for (const p of snap.values()) if (p.pgid === pgid && !found.has(p.pid)) return false;
  return true;
}

/**
 * cgroup.kill reaches everything in the cgroup and below without asking whose it is, so it is used only
 * when every process there now is a member or passes the same rules (a child forked since the last
 * collection is checked here, not assumed).
 */
function cgroupIsAllMembers(dir: string, found: Map<number, Member>, exclude: Set<number>, refused: Map<number, Refused>, admit: TeardownOptions['admit']): boolean {
  for (const pid of cgroupPids(dir)) {
    if (exclude.has(pid) || refused.has(pid)) return false;
    if (found.has(pid)) continue;
    const p = readProc(pid, { cmdline: false, cgroup: false, environ: false });
    if (p && admit && !admit(p)) return false;
  }
  return true;
}

/**
 * The common end of a pool task: its cgroup reports nothing left, its leader has been reaped and every
 * process the registry saw is gone. Then no mechanism can find a member, and the two /proc scans of a
 * full collection are skipped. A whole-run scope (markers of env-cleared daemons, adopted orphans) and
 * any scope without a cgroup always get the full collection.
 */
function provablyEmpty(scopes: JobScope[]): boolean {
  return scopes.every(
    (s) => !s.wholeRun && s.cgroup && !isPopulated(s.cgroup) && !(s.leader && isAlive(s.leader)) && (s.registry ?? []).every((id) => !isAlive(id)),
  );
}
