import { UsageError } from '../config/errors.ts';

/** What Slurm tells a prolog or epilog about the job it runs for. */
export interface SlurmJob {
  id: string;
  uid: number;
  /** GPU indexes allocated on this node (empty for a job without GPUs) */
  gpus: number[];
  /** SLURM_CLUSTER_NAME: job ids repeat across clusters, so a process must carry both to be the job's */
  cluster?: string;
  node?: string;
}

const MAX_GPUS = 1024;

/** "0,1", "0-3,6", "" -> indexes; null when the text is not a list of indexes (GPU UUIDs in CUDA_VISIBLE_DEVICES). */
export function parseGpuIndexes(text: string): number[] | null {
  const out = new Set<number>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo >= MAX_GPUS) return null;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Reads the job from the environment slurmd gives its hooks. SLURM_JOB_GPUS names the allocated
 * GPUs; CUDA_VISIBLE_DEVICES is the fallback (older Slurm sets only it in the hook environment).
 */
export function readSlurmJob(env: NodeJS.ProcessEnv = process.env): SlurmJob {
  const hint = 'corral slurm prolog/epilog are run by slurmd: name them in slurm.conf (Prolog=/path/corral-prolog, Epilog=/path/corral-epilog; see docs/slurm.md)';
  const id = env.SLURM_JOB_ID ?? env.SLURM_JOBID;
  if (!id) throw new UsageError('SLURM_JOB_ID is not set: this is not a Slurm prolog or epilog', hint);
  if (!/^\d{1,12}$/.test(id)) throw new UsageError(`SLURM_JOB_ID=${JSON.stringify(id.slice(0, 40))} is not a job id`, hint);
  const uidText = env.SLURM_JOB_UID ?? env.SLURM_UID;
  if (!uidText || !/^\d{1,10}$/.test(uidText)) throw new UsageError(`SLURM_JOB_UID is ${uidText ? 'not a uid' : 'not set'}`, hint);
  const gpuText = env.SLURM_JOB_GPUS ?? env.CUDA_VISIBLE_DEVICES ?? '';
  const gpus = parseGpuIndexes(gpuText);
  if (!gpus) {
    throw new UsageError(`the job's GPU list ${JSON.stringify(gpuText.slice(0, 80))} is not a list of GPU indexes`, 'SLURM_JOB_GPUS holds indexes such as 0,1 (set by the gres/gpu plugin)');
  }
  const job: SlurmJob = { id, uid: Number(uidText), gpus };
  if (env.SLURM_CLUSTER_NAME) job.cluster = env.SLURM_CLUSTER_NAME;
  if (env.SLURMD_NODENAME) job.node = env.SLURMD_NODENAME;
  return job;
}
