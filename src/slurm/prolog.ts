import type { GpuProcess } from '../gpu/types.ts';
import type { SlurmJob } from './job-env.ts';
import { describeHolders, waitGpusFree } from './gpu-free.ts';

export interface PrologResult {
  held: GpuProcess[];
  problems: string[];
}

/**
 * Before a job: its allocated GPUs must be free. A process still on one (an earlier job's stray the
 * epilog could not reap, something started outside Slurm) would share the GPU's memory with the new
 * job, so the prolog fails and Slurm does not start the job there.
 */
export async function runProlog(job: SlurmJob, gpuWaitMs: number): Promise<PrologResult> {
  const { holders } = await waitGpusFree(job.gpus, gpuWaitMs);
  return { held: holders, problems: describeHolders(holders).map((l) => `${l} is on a GPU allocated to this job`) };
}

export function renderProlog(job: SlurmJob, res: PrologResult): string {
  const head = `corral slurm prolog: job ${job.id}`;
  if (!res.problems.length) return `${head}: GPU ${job.gpus.join(',') || '(none allocated)'} free\n`;
  return res.problems.map((p) => `${head}: ${p}`).join('\n') + '\n';
}
