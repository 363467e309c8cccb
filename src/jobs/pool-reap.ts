import type { Db } from '../ledger/db.ts';
import { isAlive } from '../proc/identity.ts';

/**
 * Preflight policy `reap`: before a task starts on a busy GPU, reap the strays on that GPU, exactly
 * what `corral strays --gpu N` lists and `corral reap --strays --gpu N --yes` would take (same scan,
 * same safety rules: never other users' processes, allow-listed daemons, init, corral itself). What
 * is not a stray (a live run's job, another user's process) stays, and the task waits for it.
 */
export type GpuReaper = (gpu: number) => Promise<{ reaped: number; line: string | null }>;

export function createGpuReaper(db: Db, graceMs: number): GpuReaper {
  return async (gpu) => {
    const [{ scanStrays }, { buildPlan }, { executePlan }, { ledgerViewOf }, { loadAllowList }] = await Promise.all([
      import('../strays/scan.ts'), import('../reap/plan.ts'), import('../reap/execute.ts'), import('../strays/ledger-view.ts'), import('../strays/allow-list.ts'),
    ]);
    let plan;
    try {
      const scan = await scanStrays({ ledger: ledgerViewOf(db), allowList: loadAllowList() });
      plan = buildPlan({ pids: [], strays: true, filters: { gpus: [gpu] }, anyUser: false }, scan, db);
    } catch (e) {
      // a broken allow-list or ledger must not end the pool: the task waits instead
      return { reaped: 0, line: `preflight reap on GPU ${gpu} could not scan: ${(e as Error).message}` };
    }
    const skipped = plan.skipped.filter((s) => s.why !== 'not-found');
    if (!plan.targets.length) {
      return { reaped: 0, line: skipped.length ? `preflight reap on GPU ${gpu}: nothing it may reap (${skipped.map((s) => `pid ${s.pid}: ${s.why}`).join(', ')})` : null };
    }
    const res = await executePlan(plan, db, { graceMs });
    // judged by the targets themselves: gone is gone, however the teardown counted its members
    const gone = plan.targets.filter((t) => !isAlive(t));
    const bytes = gone.reduce((sum, t) => sum + t.gpuBytes, 0);
    const freed = bytes ? `, ${(bytes / 2 ** 30).toFixed(1)} GiB of GPU memory` : '';
    const left = res.remaining.length ? `; ${res.remaining.length} remain (${res.remaining.map((r) => `pid ${r.pid}: ${r.why}`).join(', ')})` : '';
    const pids = gone.map((k) => `${k.pid} (${k.command.slice(0, 40)})`).join(', ');
    return { reaped: gone.length, line: `preflight reap on GPU ${gpu}: stopped ${gone.length} stray process(es)${freed}: ${pids}${left}` };
  };
}
