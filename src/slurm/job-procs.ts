import type { GpuProcess, GpuView } from '../gpu/types.ts';
import { readProcText } from '../proc/stat.ts';
import type { ProcInfo, Snapshot } from '../proc/snapshot.ts';
import { usesDevice } from '../strays/gpu-view.ts';
import type { SlurmJob } from './job-env.ts';

/** How a process was found to be the job's. */
export type JobVia = 'slurm-env' | 'gpu' | 'cgroup';

export interface JobProcess {
  pid: number;
  starttime: number;
  via: JobVia;
}

/** Processes on any of the job's GPUs, whoever owns them. */
export function holdersOf(view: GpuView, gpus: number[]): GpuProcess[] {
  return view.processes.filter((p) => gpus.some((g) => usesDevice(p, g)));
}

/** The value of VAR in a NUL-separated environ block, or undefined. */
function varOf(block: string, name: string): string | undefined {
  const key = `${name}=`;
  const at = block.startsWith(key) ? 0 : block.indexOf(`\0${key}`) + 1;
  if (at === 0 && !block.startsWith(key)) return undefined;
  const end = block.indexOf('\0', at);
  return block.slice(at + name.length + 1, end < 0 ? undefined : end);
}

/**
 * Which Slurm job a process belongs to by its environment: 'this', 'other' (another job of this
 * cluster) or 'none'. Slurm puts SLURM_JOB_ID in every job process, and it survives setsid, double
 * forks and re-parenting to init, which is exactly how strays escape proctrack/linuxproc. Ids repeat
 * across clusters (and restarts of slurmctld), so the cluster name must match too when Slurm gave one.
 */
function jobOf(pid: number, job: SlurmJob): 'this' | 'other' | 'none' {
  const block = readProcText(`/proc/${pid}/environ`);
  const id = block === null ? undefined : (varOf(block, 'SLURM_JOB_ID') ?? varOf(block, 'SLURM_JOBID'));
  if (id === undefined || (job.cluster !== undefined && varOf(block!, 'SLURM_CLUSTER_NAME') !== job.cluster)) return 'none';
  return id === job.id ? 'this' : 'other';
}

/** A cgroup v2 path inside the job's cgroup (proctrack/cgroup: .../job_ID/step_X/...). */
function inJobCgroup(p: ProcInfo, job: SlurmJob): boolean {
  return p.cgroup !== undefined && new RegExp(`/job_${job.id}(/|$)`).test(p.cgroup);
}

/**
 * The job's processes still on this node: its uid's processes that carry the job in their environment
 * or sit in its cgroup, and its uid's holders of the job's GPUs. Only the job's uid: a marker is
 * trusted only on the uid that owns the job (another user could copy it), and slurmstepd is root's.
 */
export function findJobProcesses(job: SlurmJob, snap: Snapshot, view: GpuView): JobProcess[] {
  const found = new Map<number, JobProcess>();
  const add = (p: ProcInfo, via: JobVia) => {
    if (!found.has(p.pid)) found.set(p.pid, { pid: p.pid, starttime: p.starttime, via });
  };
  for (const p of snap.values()) {
    if (p.uid !== job.uid || p.kernelThread || p.pid === process.pid || p.comm === 'slurmstepd') continue;
    if (inJobCgroup(p, job)) add(p, 'cgroup');
    else if (jobOf(p.pid, job) === 'this') add(p, 'slurm-env');
  }
  for (const g of holdersOf(view, job.gpus)) {
    const p = snap.get(g.pid);
    // another job's process on this job's GPU is left alone: the GPU stays held and the node drains
    if (p && p.uid === job.uid && p.comm !== 'slurmstepd' && jobOf(p.pid, job) !== 'other') add(p, 'gpu');
  }
  return [...found.values()];
}
