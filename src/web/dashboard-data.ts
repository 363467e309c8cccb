import { gpusJson } from '../cli/gpus.ts';
import { historyJson } from '../cli/history.ts';
import { liveRunsJson } from '../cli/ps.ts';
import { straysJson } from '../cli/strays.ts';
import { recentGuardActions, type GuardAction } from '../guard/actions-view.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { ledgerPath } from '../ledger/location.ts';
import { readProc } from '../proc/snapshot.ts';
import { loadAllowList } from '../strays/allow-list.ts';
import { reapCommand, reapTargetOf } from '../strays/commands.ts';
import type { GpuView } from '../gpu/types.ts';
import { readGpuView } from '../strays/gpu-view.ts';
import { ledgerViewOf } from '../strays/ledger-view.ts';
import { userResolver } from '../strays/facts.ts';
import { scanStrays, type StrayScan } from '../strays/scan.ts';
import { sampleGpuMemory, sampleScan, type SampleInput } from './timeline.ts';
import { monotonicMs } from '../proc/clock.ts';

/** How many past runs the dashboard shows (history --json -n 50). */
export const HISTORY_LIMIT = 50;
const GUARD_LIMIT = 100;

/** One look at the machine, already in the shapes the API serves (those of the CLI's --json). */
export interface DashboardView {
  /** monotonicMs() when taken: its age is judged on the monotonic clock */
  takenAt: number;
  gpus: ReturnType<typeof gpusJson>;
  /** strays --json, plus per pid the `corral reap` line to copy (the one the report gives) */
  strays: ReturnType<typeof straysJson> & { reapCommands: Record<string, string> };
  runs: { live: ReturnType<typeof liveRunsJson>; history: ReturnType<typeof historyJson> };
  sample: SampleInput;
  /** the guard's newest actions (none where no guard ever ran) */
  guard: GuardAction[];
}

/**
 * The one scan every client shares: at most one pass over /proc, the GPU probes and the ledger per
 * `maxAgeMs`, however many pages poll and however often; a request while a scan runs waits for that
 * scan instead of starting another. On a machine with thousands of processes a scan costs real CPU,
 * so a page's polling never multiplies it.
 */
export class DashboardData {
  private view: DashboardView | undefined;
  private pending: Promise<DashboardView> | undefined;
  private askedAt = -Infinity;
  private readonly env: NodeJS.ProcessEnv;
  private readonly maxAgeMs: number;
  private readonly onScan?: (view: DashboardView) => void;
  private readonly readGpu: () => Promise<GpuView>;

  constructor(opts: { env?: NodeJS.ProcessEnv; maxAgeMs: number; onScan?: (view: DashboardView) => void; readGpu?: () => Promise<GpuView> }) {
    this.env = opts.env ?? process.env;
    this.maxAgeMs = opts.maxAgeMs;
    this.onScan = opts.onScan;
    this.readGpu = opts.readGpu ?? (() => readGpuView(this.env));
  }

  /** What a client is shown: the shared view, scanned again once it is older than the interval. */
  async current(): Promise<DashboardView> {
    this.askedAt = monotonicMs();
    return this.fresh();
  }

  /**
   * The timeline sampler's tick. While a page has asked lately, a full scan (it records its own sample);
   * with none watching, only the GPU view and the owners of its processes, so an idle dashboard costs
   * next to nothing on a machine with thousands of processes.
   */
  async tick(record: (s: SampleInput) => void, watchedWithinMs: number): Promise<void> {
    if (monotonicMs() - this.askedAt < watchedWithinMs) return void (await this.fresh());
    const gpu = await this.readGpu();
    const userOf = userResolver();
    record(sampleGpuMemory(gpu, (pid) => {
      const p = readProc(pid, { environ: false, cmdline: false, exe: false, cgroup: false });
      return p ? userOf(p.uid) : undefined;
    }));
  }

  private async fresh(): Promise<DashboardView> {
    if (this.view && monotonicMs() - this.view.takenAt < this.maxAgeMs) return this.view;
    this.pending ??= this.take().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async take(): Promise<DashboardView> {
    // opened per scan: a ledger made after the dashboard started (the first corral run) is seen too
    const db = openLedgerToRead(ledgerPath(this.env));
    try {
      const scan = await scanStrays({ ledger: ledgerViewOf(db), allowList: loadAllowList(undefined, this.env), gpu: await this.readGpu() });
      const view: DashboardView = {
        takenAt: monotonicMs(),
        gpus: gpusJson(scan),
        strays: { ...straysJson(scan, scan.strays), reapCommands: reapCommands(scan) },
        runs: { live: liveRunsJson(db, scan.snapshot), history: historyJson(db, HISTORY_LIMIT) },
        sample: sampleScan(scan),
        guard: recentGuardActions(GUARD_LIMIT, this.env),
      };
      this.view = view;
      this.onScan?.(view);
      return view;
    } finally {
      db.close();
    }
  }
}

function reapCommands(scan: StrayScan): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of scan.strays) {
    const target = reapTargetOf(s);
    if (target) out[String(s.pid)] = reapCommand(target.pids, target.uids);
  }
  return out;
}
