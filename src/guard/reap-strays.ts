import type { Db } from '../ledger/db.ts';
import { readStat } from '../proc/stat.ts';
import { executePlan, type DeviceMemory } from '../reap/execute.ts';
import { buildPlan } from '../reap/plan.ts';
import type { StrayScan } from '../strays/scan.ts';
import { STRAY_REASONS, type Stray } from '../strays/types.ts';

const MIB = 1024 * 1024;

export interface StrayReapOutcome {
  stray: Stray;
  outcome: string;
  gpuBeforeMiB?: number;
  gpuAfterMiB?: number;
  killed: boolean;
}

/** Used memory of the devices a stray was on, in MiB; undefined where no device reports it. */
function usedOn(devices: DeviceMemory[], s: Stray): number | undefined {
  const on = new Set(s.gpu.map((g) => g.device));
  const used = devices.filter((d) => on.has(d.index) && d.usedBytes !== undefined);
  return used.length ? Math.round(used.reduce((sum, d) => sum + d.usedBytes!, 0) / MIB) : undefined;
}

/**
 * Reaps strays the policy judged due, through reap's plan and the one teardown (each with its subtree,
 * under reap's safety rules). Each is re-read first: a pid whose starttime changed since the scan names
 * another process now and is left alone. `covered` keeps subtree members of users outside the policy out.
 */
export async function reapStrays(due: Stray[], scan: StrayScan, db: Db, covered: (uid: number) => boolean, graceMs: number): Promise<StrayReapOutcome[]> {
  const out: StrayReapOutcome[] = [];
  const same = due.filter((s) => {
    const st = readStat(s.pid);
    if (st && st.starttime === s.starttime) return true;
    out.push({ stray: s, outcome: st ? 'not reaped: its pid names another process now (identity changed since judged)' : 'gone before the reap', killed: false });
    return false;
  });
  if (!same.length) return out;
  const root = process.geteuid?.() === 0;
  const plan = buildPlan({ pids: same.map((s) => s.pid), strays: true, filters: { reasons: [...STRAY_REASONS] }, anyUser: root }, scan, db);
  // members of users outside the policy are never the guard's to stop, even under a covered stray
  const outside = plan.targets.filter((t) => !covered(t.uid));
  if (outside.length) {
    const drop = new Set(outside.map((t) => t.pid));
    plan.targets = plan.targets.filter((t) => !drop.has(t.pid));
    plan.exclude.push(...drop);
    const admit = plan.admit;
    plan.admit = (p) => covered(p.uid) && (admit ? admit(p) : true);
  }
  const result = await executePlan(plan, db, { graceMs });
  const killed = new Set(result.killed.map((k) => `${k.pid}:${k.starttime}`));
  for (const s of same) {
    const gone = killed.has(`${s.pid}:${s.starttime}`) || !readStat(s.pid) || readStat(s.pid)!.starttime !== s.starttime;
    const skipped = plan.skipped.find((k) => k.pid === s.pid);
    const left = result.remaining.find((r) => r.pid === s.pid);
    const outcome = gone
      ? `reaped: ${result.killed.length} process(es) stopped${result.freedBytes ? `, ${Math.round(result.freedBytes / MIB)} MiB GPU memory freed` : ''}`
      : `not reaped: ${skipped?.detail ?? left?.detail ?? 'still alive'}`;
    out.push({ stray: s, outcome, killed: gone, gpuBeforeMiB: usedOn(result.gpuBefore, s), gpuAfterMiB: usedOn(result.gpuAfter, s) });
  }
  return out;
}
