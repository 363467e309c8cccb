import { spawnSync } from 'node:child_process';
import { UsageError } from '../config/errors.ts';
import type { TaskBackend } from '../jobs/pool-run.ts';
import type { RunSession } from '../jobs/run-session.ts';
import { startCanceller, type Canceller } from './canceller.ts';
import { createSlurmBackend } from './pool-backend.ts';
import { slurmJobName } from './sbatch-args.ts';

export interface SlurmPoolFlags {
  slurm?: boolean;
  partition?: string;
  account?: string;
  slurmArg?: string[];
  tag?: boolean;
  lineBuffer?: boolean;
}

export interface SlurmPool {
  backend: TaskBackend;
  onStart: (session: RunSession) => void;
  /** the pool ended and cancelled what it had to: the canceller stands down */
  finish: () => void;
}

/** Checks the --slurm flags (UsageError before anything is submitted) and builds the pool's Slurm backend; undefined without --slurm. */
export function prepareSlurmPool(flags: SlurmPoolFlags): SlurmPool | undefined {
  if (!flags.slurm) {
    const stray = flags.partition !== undefined ? '--partition' : flags.account !== undefined ? '--account' : flags.slurmArg?.length ? '--slurm-arg' : null;
    if (stray) throw new UsageError(`${stray} is for a pool run on Slurm`, 'add --slurm');
    return undefined;
  }
  if (flags.tag || flags.lineBuffer) throw new UsageError(`${flags.tag ? '--tag' : '--line-buffer'} passes on output corral reads from its tasks, and on Slurm the node writes it`, 'drop it; each task keeps its log (corral logs RUN)');
  if (spawnSync('sh', ['-c', 'command -v sbatch && command -v squeue && command -v scancel'], { stdio: 'ignore' }).status !== 0) {
    throw new UsageError('--slurm needs Slurm\'s client commands (sbatch, squeue, scontrol, scancel) on PATH', 'run corral on a login node of the cluster, or add the Slurm binaries to PATH');
  }
  for (const a of flags.slurmArg ?? []) {
    if (/^--(wrap|parsable|job-name|output|open-mode)\b/.test(a)) throw new UsageError(`--slurm-arg ${a}: corral sets this itself`, 'it names jobs by run id, wraps each task in corral run and writes its log where corral logs finds it');
  }
  let canceller: Canceller | undefined;
  return {
    backend: createSlurmBackend({ partition: flags.partition, account: flags.account, extraArgs: flags.slurmArg ?? [] }),
    onStart: (session) => {
      canceller = startCanceller(slurmJobName(session.id), process.env);
    },
    finish: () => canceller?.markClean(),
  };
}
