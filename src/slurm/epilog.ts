import { openLedgerToRead } from '../ledger/db.ts';
import type { GpuProcess } from '../gpu/types.ts';
import { buildPlan } from '../reap/plan.ts';
import { executePlan, type ReapResult } from '../reap/execute.ts';
import { ledgerViewOf } from '../strays/ledger-view.ts';
import { scanStrays } from '../strays/scan.ts';
import type { SlurmJob } from './job-env.ts';
import { findJobProcesses, type JobProcess } from './job-procs.ts';
import { describeHolders, waitGpusFree } from './gpu-free.ts';

export interface HookOptions {
  /** between the stop signal and SIGKILL */
  graceMs: number;
  /** how long the GPUs may take to come free */
  gpuWaitMs: number;
}

export interface EpilogResult {
  found: JobProcess[];
  reap: ReapResult | null;
  /** processes still on the job's GPUs after the reap and the wait */
  held: GpuProcess[];
  /** one line per thing left that makes the node unfit for the next job */
  problems: string[];
}

/**
 * After a job: its processes left on the node (found by Slurm's own environment marker, its cgroup,
 * its uid on its GPUs) go through the one teardown, then the job's GPUs must come free. Anything
 * left is a problem: the caller exits non-zero and Slurm drains the node.
 */
export async function runEpilog(job: SlurmJob, opts: HookOptions): Promise<EpilogResult> {
  const db = openLedgerToRead();
  try {
    const scan = await scanStrays({ ledger: ledgerViewOf(db) });
    const found = findJobProcesses(job, scan.snapshot, scan.gpu);
    let reap: ReapResult | null = null;
    const problems: string[] = [];
    if (found.length) {
      const plan = buildPlan({ pids: found.map((f) => f.pid), strays: false, filters: {}, anyUser: true }, scan, db);
      reap = await executePlan(plan, db, { graceMs: opts.graceMs });
      for (const r of reap.remaining) if (r.why !== 'zombie' || r.fix) problems.push(`pid ${r.pid} (${r.user}) ${r.command.slice(0, 80)} survived: ${r.detail}`);
    }
    const { holders } = await waitGpusFree(job.gpus, opts.gpuWaitMs);
    for (const line of describeHolders(holders)) problems.push(`${line} still holds the job's GPU`);
    return { found, reap, held: holders, problems };
  } finally {
    db.close();
  }
}

export function renderEpilog(job: SlurmJob, res: EpilogResult): string {
  const head = `corral slurm epilog: job ${job.id}`;
  const lines: string[] = [];
  const killed = res.reap?.killed ?? [];
  if (!res.found.length) lines.push(`${head}: nothing of the job left on this node`);
  else {
    const via = new Map(res.found.map((f) => [f.pid, f.via]));
    const names = killed.slice(0, 10).map((k) => `${k.pid} ${k.command.slice(0, 40)}${via.has(k.pid) ? ` [${via.get(k.pid)}]` : ''}`);
    lines.push(`${head}: reaped ${killed.length} process(es) the job left behind${names.length ? `: ${names.join('; ')}` : ''}`);
  }
  if (job.gpus.length && !res.held.length) lines.push(`${head}: GPU ${job.gpus.join(',')} free`);
  for (const p of res.problems) lines.push(`${head}: ${p}`);
  return lines.join('\n') + '\n';
}
