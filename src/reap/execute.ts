import type { GpuView } from '../gpu/types.ts';
import type { Db } from '../ledger/db.ts';
import { readStat } from '../proc/stat.ts';
import { isAlive } from '../proc/identity.ts';
import { readGpuView } from '../strays/gpu-view.ts';
import { teardown, type TeardownOptions } from '../supervise/teardown.ts';
import type { PlanEntry, ReapPlan } from './plan.ts';
import { recordReap } from './record.ts';
import { isRoot } from './safety.ts';
import { monotonicMs } from '../proc/clock.ts';

export interface Remaining {
  pid: number;
  user: string;
  state: string;
  command: string;
  why: 'eperm' | 'unkillable' | 'zombie' | 'skipped';
  detail: string;
  fix?: string;
}

export interface DeviceMemory {
  index: number;
  name?: string;
  usedBytes?: number;
  totalBytes?: number;
}

export interface ReapResult {
  /** processes signalled that are gone now (a zombie left for init to collect counts as gone) */
  killed: PlanEntry[];
  remaining: Remaining[];
  escalated: boolean;
  ms: number;
  gpuBefore: DeviceMemory[];
  gpuAfter: DeviceMemory[];
  /** GPU memory the killed processes were known to hold */
  freedBytes: number;
}

export function deviceMemory(view: GpuView): DeviceMemory[] {
  return view.devices.map((d) => ({ index: d.index, name: d.name, usedBytes: d.memUsedBytes, totalBytes: d.memTotalBytes }));
}

/**
 * Carries a plan out: every scope through the one teardown routine (stop signal and SIGCONT, grace,
 * SIGKILL, verified empty), then what went, what remains and why, and the GPU memory before and after.
 */
export async function executePlan(plan: ReapPlan, db: Db, opts: Pick<TeardownOptions, 'signal' | 'graceMs' | 'unkillableMs'> = {}, currentUid = process.getuid?.() ?? -1): Promise<ReapResult> {
  const started = monotonicMs();
  const known = new Map<number, PlanEntry>(plan.targets.map((t) => [t.pid, t]));
  const result = plan.scopes.length ? await teardown(plan.scopes, { ...opts, exclude: plan.exclude, admit: plan.admit }) : null;
  const snapUser = (pid: number) => known.get(pid)?.user ?? '?';
  const remaining: Remaining[] = [];
  for (const l of result?.leftovers ?? []) {
    const sudo = isRoot(currentUid) ? '' : 'sudo ';
    remaining.push({
      pid: l.pid, user: l.user, state: l.state, command: l.command, why: l.why,
      detail: l.why === 'eperm' ? `not permitted: owned by ${l.user}` : `in state ${l.state} (wchan ${l.wchan}); it dies when its kernel call returns`,
      fix: l.why === 'eperm' ? `${sudo}corral reap --any-user ${l.pid} --yes` : undefined,
    });
  }
  // zombies were dead before the reap: they are accounted for below, not as killed
  const left = new Set([...remaining.map((r) => r.pid), ...plan.zombies.map((z) => z.pid)]);
  const killed: PlanEntry[] = [];
  for (const m of result?.members ?? []) {
    if (left.has(m.pid) || isAlive(m)) continue;
    const e = known.get(m.pid);
    killed.push(e ?? { pid: m.pid, starttime: m.starttime, ppid: 0, uid: -1, user: snapUser(m.pid), state: '?', command: '?', selectedBy: 'subtree', reasons: [], gpu: [], gpuBytes: 0 });
  }
  for (const z of plan.zombies) {
    const st = readStat(z.pid);
    if (!st || st.starttime !== z.starttime) continue;
    const detail = st.ppid === 1
      ? 'a zombie whose parent is now init (pid 1); it goes when init reaps it'
      : `a zombie: its parent pid ${st.ppid} (${z.parentComm}) has not reaped it; it goes when that parent calls wait() or exits`;
    remaining.push({ pid: z.pid, user: z.user, state: 'Z', command: z.command, why: 'zombie', detail, fix: st.ppid > 1 ? `corral reap ${st.ppid}` : undefined });
  }
  for (const s of plan.skipped) {
    if (s.why === 'not-found') continue;
    remaining.push({ pid: s.pid, user: s.user, state: s.state, command: s.command, why: 'skipped', detail: s.detail, fix: s.fix });
  }
  const gpuAfter = plan.scan.gpu.devices.length || plan.scan.gpu.processes.length ? deviceMemory(await readGpuView()) : [];
  const res: ReapResult = {
    killed, remaining, escalated: result?.escalated ?? false, ms: monotonicMs() - started,
    gpuBefore: deviceMemory(plan.scan.gpu), gpuAfter, freedBytes: killed.reduce((sum, k) => sum + k.gpuBytes, 0),
  };
  recordReap(db, plan, res);
  return res;
}
