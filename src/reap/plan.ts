import { UsageError } from '../config/errors.ts';
import type { Db } from '../ledger/db.ts';
import { runState } from '../ledger/run-state.ts';
import type { RunRow } from '../ledger/runs.ts';
import type { ProcInfo } from '../proc/snapshot.ts';
import { childrenMap, descendants } from '../proc/tree.ts';
import { collectMembers, protectedPids } from '../supervise/members.ts';
import type { JobScope } from '../supervise/scope.ts';
import { commandOf } from '../strays/facts.ts';
import { applyStrayFilters, type StrayFilters } from '../strays/filters.ts';
import { knownBytes } from '../strays/rules.ts';
import type { StrayScan } from '../strays/scan.ts';
import type { GpuUse, StrayReason } from '../strays/types.ts';
import { refuse, isRoot, takenByDefault, type Refusal, type SafetyContext } from './safety.ts';
import { identityScope, jobScopes, resolveJob, resolveRun, runScopes } from './scopes.ts';

export interface ReapSelectors {
  pids: number[];
  run?: string;
  job?: string;
  /** select by the stray scan; pids, when given, restrict it */
  strays: boolean;
  filters: StrayFilters;
  anyUser: boolean;
  /** reap a run or job whose supervisor is alive (by default refused: corral stop ends it gracefully) */
  force?: boolean;
}

export type SelectedBy = 'pid' | 'run' | 'job' | 'stray' | 'subtree';

export interface PlanEntry {
  pid: number;
  starttime: number;
  ppid: number;
  uid: number;
  user: string;
  state: string;
  command: string;
  selectedBy: SelectedBy;
  /** for subtree entries: the target they descend from */
  under?: number;
  reasons: StrayReason[];
  runId?: string;
  jobId?: string;
  gpu: GpuUse[];
  gpuBytes: number;
}

export type PlanSkip = PlanEntry & Refusal;

/** A zombie cannot be signalled away: it goes when its parent reaps it, or dies and init does. */
export interface PlanZombie extends PlanEntry {
  parentComm: string;
  /** its parent is itself a target, so reaping the parent resolves it */
  resolved: boolean;
}

export interface ReapPlan {
  selectors: ReapSelectors;
  targets: PlanEntry[];
  skipped: PlanSkip[];
  zombies: PlanZombie[];
  /** strays left out by root's default (no --reason): neither attributed to corral nor holding a GPU */
  notTaken: number;
  scopes: JobScope[];
  /** pids teardown must never signal (skipped ones found inside a target's subtree or scope) */
  exclude: number[];
  /** the plan's rules for a process the teardown finds that the plan did not list (forked since) */
  admit?: (p: ProcInfo) => boolean;
  runIds: string[];
  scan: StrayScan;
}

/**
 * A run whose supervisor is alive is not reaped by default: its restart policy would start the jobs
 * again into a cgroup the reap removed. corral stop ends it gracefully; --force reaps it, supervisor included.
 */
function refuseLive(run: RunRow, sel: ReapSelectors, ref: string): void {
  const state = runState(run);
  if (!state.supervisorAlive || sel.force) return;
  throw new UsageError(
    `run ${run.id} is live: its supervisor (pid ${run.supervisor_pid}) is still running it, so reap leaves it alone`,
    `stop it with: corral stop ${ref}   (or reap it anyway, supervisor included, with --force)`,
  );
}

/** Works out what a reap would signal, without signalling anything. */
export function buildPlan(sel: ReapSelectors, scan: StrayScan, db: Db, currentUid = process.getuid?.() ?? -1): ReapPlan {
  const snap = scan.snapshot;
  const ctx: SafetyContext = { currentUid, anyUser: sel.anyUser, protect: protectedPids(snap), allowListed: scan.allowListed };
  const strayOf = new Map(scan.strays.map((s) => [s.pid, s]));
  const picked = new Map<number, { how: SelectedBy; runId?: string; jobId?: string; under?: number }>();
  const scopes: JobScope[] = [];
  const plan: ReapPlan = { selectors: sel, targets: [], skipped: [], zombies: [], notTaken: 0, scopes, exclude: [], runIds: [], scan };
  const entry = (p: ProcInfo, how: SelectedBy, extra: { runId?: string; jobId?: string; under?: number } = {}): PlanEntry => {
    const s = strayOf.get(p.pid);
    const gpu = s?.gpu ?? [];
    return {
      pid: p.pid, starttime: p.starttime, ppid: p.ppid, uid: p.uid, user: scan.userOf(p.uid), state: p.state, command: commandOf(p), selectedBy: how,
      reasons: s?.reasons.map((r) => r.reason) ?? [], runId: extra.runId ?? s?.attribution.runId, jobId: extra.jobId ?? s?.attribution.jobId,
      gpu, gpuBytes: knownBytes(gpu), ...(extra.under !== undefined ? { under: extra.under } : {}),
    };
  };

  if (sel.strays) {
    let list = applyStrayFilters(scan.strays, { ...sel.filters, pids: sel.pids.length ? sel.pids : undefined });
    if (!sel.filters.reasons) {
      const taken = list.filter((s) => takenByDefault(s, isRoot(currentUid), sel.pids.includes(s.pid)));
      plan.notTaken = list.length - taken.length;
      list = taken;
    }
    for (const s of list) picked.set(s.pid, { how: 'stray' });
  } else {
    for (const pid of new Set(sel.pids)) {
      const p = snap.get(pid);
      if (p) picked.set(pid, { how: 'pid' });
      else plan.skipped.push({ pid, starttime: 0, ppid: 0, uid: -1, user: '?', state: '?', command: '?', selectedBy: 'pid', reasons: [], gpu: [], gpuBytes: 0, why: 'not-found', detail: 'no such process' });
    }
  }
  const addScopes = (list: JobScope[], how: 'run' | 'job') => {
    scopes.push(...list);
    for (const m of collectMembers(list, snap, ctx.protect).values()) {
      if (!picked.has(m.pid)) picked.set(m.pid, { how, runId: list[0]?.runId, jobId: list.find((s) => s.jobId === m.jobId && !s.wholeRun)?.jobId });
    }
  };
  if (sel.run && !sel.strays) {
    const run = resolveRun(db, sel.run);
    refuseLive(run, sel, sel.run);
    plan.runIds.push(run.id);
    addScopes(runScopes(db, run, snap), 'run');
  }
  if (sel.job) {
    const { run, job } = resolveJob(db, sel.job);
    refuseLive(run, sel, sel.job);
    if (!plan.runIds.includes(run.id)) plan.runIds.push(run.id);
    addScopes(jobScopes(db, run, job), 'job');
  }

  const targeted = new Set<number>();
  const skip = new Set<number>();
  const zombies: ProcInfo[] = [];
  for (const [pid, how] of picked) {
    const p = snap.get(pid)!;
    const refusal = refuse(p, how.how, ctx, scan.userOf(p.uid));
    if (refusal) skip.add(pid);
    if (refusal) plan.skipped.push({ ...entry(p, how.how, how), ...refusal });
    else if (p.state === 'Z') zombies.push(p);
    else {
      plan.targets.push(entry(p, how.how, how));
      targeted.add(pid);
    }
  }
  // Each directly chosen process takes its whole subtree, under the same safety rules.
  const kids = childrenMap(snap);
  for (const t of [...plan.targets]) {
    if (t.selectedBy !== 'pid' && t.selectedBy !== 'stray') continue;
    scopes.push(identityScope(t, t.runId));
    for (const pid of descendants(snap, [t.pid], kids)) {
      if (targeted.has(pid) || skip.has(pid)) continue; // each process is planned once
      const p = snap.get(pid)!;
      if (p.state === 'Z') continue; // goes with its parent
      const refusal = refuse(p, 'subtree', ctx, scan.userOf(p.uid));
      if (refusal) plan.skipped.push({ ...entry(p, 'subtree', { under: t.pid }), ...refusal });
      else plan.targets.push(entry(p, 'subtree', { under: t.pid }));
      (refusal ? skip : targeted).add(pid);
    }
  }
  for (const z of zombies) {
    const parent = snap.get(z.ppid);
    plan.zombies.push({ ...entry(z, picked.get(z.pid)!.how), parentComm: parent?.comm ?? '?', resolved: targeted.has(z.ppid) });
  }
  plan.exclude = plan.skipped.filter((s) => snap.has(s.pid)).map((s) => s.pid);
  // What the teardown finds later (a child forked after this plan) passes the same rules the plan applied.
  const planned = new Map(plan.targets.map((t) => [t.pid, t.starttime]));
  plan.admit = (p) => planned.get(p.pid) === p.starttime || refuse(p, 'subtree', ctx, scan.userOf(p.uid)) === null;
  for (const t of plan.targets) if (t.runId && !plan.runIds.includes(t.runId)) plan.runIds.push(t.runId);
  return plan;
}
