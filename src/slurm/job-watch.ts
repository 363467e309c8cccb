import { setTimeout as sleep } from 'node:timers/promises';
import { runSlurm } from './slurm-cmd.ts';

/** How a Slurm job ended, as scontrol tells it. */
export interface SlurmEnd {
  /** COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, ... or LOST (no longer known) */
  state: string;
  exitCode: number | null;
  /** the signal that ended the batch script, 0 when none */
  signal: number;
  /** Slurm's Reason=, e.g. JobLaunchFailure (the node could not start it) */
  why?: string;
}

const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD']);

/** "JobId=7 ... JobState=COMPLETED Reason=None ... ExitCode=124:0" -> the end, or null while it runs. */
export function parseJobLine(line: string): SlurmEnd | null {
  const state = /\bJobState=(\S+)/.exec(line)?.[1];
  if (!state || ACTIVE.has(state)) return null;
  const code = /\bExitCode=(\d+):(\d+)/.exec(line);
  const why = /\bReason=(\S+)/.exec(line)?.[1];
  return { state, exitCode: code ? Number(code[1]) : null, signal: code ? Number(code[2]) : 0, ...(why && why !== 'None' ? { why } : {}) };
}

/**
 * One poll for all of a pool's jobs: a single squeue call per round says which are still active;
 * only the ones that ended get a scontrol call for their exit code. Without slurmdbd (no sacct),
 * a job slurmctld has already forgotten (MinJobAge) ends as LOST.
 */
export class SlurmWatcher {
  private readonly waiting = new Map<string, (end: SlurmEnd) => void>();
  private loop: Promise<void> | null = null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pollMs: number;
  constructor(env: NodeJS.ProcessEnv, pollMs = 250) {
    this.env = env;
    this.pollMs = pollMs;
  }

  wait(jobId: string): Promise<SlurmEnd> {
    const p = new Promise<SlurmEnd>((resolve) => this.waiting.set(jobId, resolve));
    this.loop ??= this.run().finally(() => (this.loop = null));
    return p;
  }

  private async run(): Promise<void> {
    while (this.waiting.size) {
      await sleep(this.pollMs);
      const ids = [...this.waiting.keys()];
      let active: Set<string>;
      try {
        const out = await runSlurm('squeue', ['-h', '-t', 'all', '-o', '%i %T', '-j', ids.join(',')], this.env);
        active = new Set(out.split('\n').map((l) => l.trim().split(' ')).filter(([, s]) => s && ACTIVE.has(s)).map(([id]) => id!));
      } catch {
        continue; // slurmctld busy or restarting: ask again next round
      }
      for (const id of ids) if (!active.has(id)) void this.settle(id);
    }
  }

  private async settle(id: string): Promise<void> {
    let end: SlurmEnd | null;
    try {
      end = parseJobLine(await runSlurm('scontrol', ['show', 'job', '-o', id], this.env));
    } catch (e) {
      // forgotten by slurmctld (MinJobAge passed, no accounting to ask): nothing more will be known
      if (!/invalid job id/i.test((e as Error).message)) return;
      end = { state: 'LOST', exitCode: null, signal: 0 };
    }
    if (!end) return;
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(end);
  }
}
