import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { computeRetryDelay, type PoolSlot } from '../config/pool-spec.ts';
import { renderCommand } from '../config/template.ts';
import { addEvent } from '../ledger/events.ts';
import { jobIdFor } from '../ledger/ids.ts';
import { finishAttempt, insertAttempt, insertJob, updateJob } from '../ledger/jobs.ts';
import { describeAttemptEnd } from '../jobs/attempt-text.ts';
import type { PoolTask, TaskResult } from '../jobs/pool-plan.ts';
import type { TaskBackend } from '../jobs/pool-run.ts';
import type { RunSession } from '../jobs/run-session.ts';
import type { StopReason } from '../supervise/restart-policy.ts';
import { SlurmWatcher, type SlurmEnd } from './job-watch.ts';
import { sbatchArgs, type SlurmSubmitOptions } from './sbatch-args.ts';
import { runSlurm } from './slurm-cmd.ts';

/** corral run's exit status on timeout (timeout(1)'s) */
const EXIT_TIMEOUT = 124;

/** How one Slurm job ended, in the pool's terms. */
export function outcomeOf(end: SlurmEnd, stoppedBy: StopReason | null): Pick<TaskResult, 'state' | 'exitCode' | 'signal' | 'reason' | 'status'> {
  const sig = end.signal ? `signal ${end.signal}` : null;
  if (end.state === 'COMPLETED' && end.exitCode === 0) return { state: 'succeeded', exitCode: 0, signal: null, reason: 'exited', status: 0 };
  // the node could not start the batch script (its output file, its working directory): no exit status of the task's
  if (end.why === 'JobLaunchFailure') return { state: 'failed', exitCode: null, signal: null, reason: 'spawn-failed', status: 125 };
  if (end.state === 'CANCELLED' && stoppedBy) return { state: 'stopped', exitCode: end.exitCode, signal: sig, reason: stoppedBy, status: 128 + 15 };
  if (end.state === 'TIMEOUT' || end.exitCode === EXIT_TIMEOUT) return { state: 'failed', exitCode: end.exitCode, signal: sig, reason: 'timeout', status: EXIT_TIMEOUT };
  if (end.state === 'FAILED' || end.state === 'COMPLETED') {
    return { state: 'failed', exitCode: end.exitCode, signal: sig, reason: end.signal ? 'signal' : 'exited', status: end.signal ? 128 + end.signal : (end.exitCode ?? 1) };
  }
  return { state: 'failed', exitCode: end.exitCode, signal: sig, reason: end.state.toLowerCase(), status: 1 };
}

/**
 * Each task as Slurm jobs: one sbatch per attempt (retries are resubmissions with the stage's backoff),
 * every attempt and the task's result in this run's ledger like a local task's. `needs` stays corral's
 * own scheduling (a task is submitted once its item's earlier stages succeeded): afterok cannot express
 * a retried dependency (its failed first attempt would make the dependent job never runnable), nor
 * halt, skip records or --resume.
 */
export function createSlurmBackend(o: SlurmSubmitOptions, env: NodeJS.ProcessEnv = process.env): TaskBackend {
  const watcher = new SlurmWatcher(env);
  return {
    start(session: RunSession, task: PoolTask, slot: PoolSlot, onRetry) {
      let stoppedBy: StopReason | null = null;
      let current: string | null = null;
      const wake = new AbortController();
      const stop = (reason: StopReason) => {
        stoppedBy ??= reason;
        wake.abort();
        if (current) void runSlurm('scancel', [current], env).catch(() => {});
      };
      return { stop, done: runTask(session, task, slot, o, env, watcher, { stopped: () => stoppedBy, setCurrent: (id) => (current = id), wake: wake.signal, onRetry }) };
    },
  };
}

interface TaskControl {
  stopped: () => StopReason | null;
  setCurrent: (slurmId: string | null) => void;
  wake: AbortSignal;
  onRetry: (attempt: number, delayMs: number, why: string) => void;
}

async function runTask(session: RunSession, task: PoolTask, slot: PoolSlot, o: SlurmSubmitOptions, env: NodeJS.ProcessEnv, watcher: SlurmWatcher, ctl: TaskControl): Promise<TaskResult> {
  const { db } = session;
  const { stage, item } = task;
  const id = jobIdFor(session.id, task.name);
  // on the node the job's GPU is the first Slurm made visible
  const argv = renderCommand(stage.run, { item, gpu: slot.gpu === null ? null : 0 });
  const logPath = session.logPath(task.name);
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const startedAt = Date.now();
  insertJob(db, { id, run_id: session.id, role: 'task', name: task.name, argv: JSON.stringify(argv), gpus: slot.gpu === null ? null : 'slurm:1', item: item.value, stage: stage.name, log_path: logPath, state: 'running', started_at: startedAt });
  let out: Pick<TaskResult, 'state' | 'exitCode' | 'signal' | 'reason' | 'status'> = { state: 'stopped', exitCode: null, signal: null, reason: 'signal', status: 143 };
  let attempts = 0;
  for (let n = 1; n <= stage.retries + 1 && !ctl.stopped(); n++) {
    attempts = n;
    const attempt = insertAttempt(db, { job_id: id, run_id: session.id, n, pid: null, starttime: null, pgid: null, sid: null, cgroup: null, started_at: Date.now() });
    let slurmId: string;
    try {
      slurmId = (await runSlurm('sbatch', sbatchArgs(session.id, task.name, stage, slot, argv, logPath, o), { ...env, ...stage.env })).trim().split(';')[0]!;
    } catch (e) {
      appendFileSync(logPath, `corral: ${(e as Error).message}\n`);
      out = { state: 'failed', exitCode: null, signal: null, reason: 'spawn-failed', status: 125 };
      finishAttempt(db, attempt, { ended_at: Date.now(), exit_code: null, signal: null, stop_reason: 'spawn-failed', leftovers: null });
      break;
    }
    ctl.setCurrent(slurmId);
    addEvent(db, session.id, id, 'slurm-submit', { slurmJob: slurmId, attempt: n });
    if (ctl.stopped()) void runSlurm('scancel', [slurmId], env).catch(() => {});
    const end = await watcher.wait(slurmId);
    ctl.setCurrent(null);
    out = outcomeOf(end, ctl.stopped());
    finishAttempt(db, attempt, { ended_at: Date.now(), exit_code: out.exitCode, signal: out.signal, stop_reason: out.reason, leftovers: null });
    if (out.state !== 'failed' || n > stage.retries) break;
    const delayMs = computeRetryDelay(stage, n);
    const why = describeAttemptEnd({ exitCode: out.exitCode, signal: out.signal, reason: out.reason as StopReason }, { timeoutMs: stage.timeoutMs ?? undefined });
    ctl.onRetry(n + 1, delayMs, `${why} (Slurm job ${slurmId})`);
    await sleep(delayMs, undefined, { signal: ctl.wake }).catch(() => {});
  }
  if (attempts === 0 || (ctl.stopped() && out.state === 'failed')) out = { ...out, state: 'stopped', reason: ctl.stopped() ?? 'signal' };
  const endedAt = Date.now();
  updateJob(db, id, { state: out.state, attempts, ended_at: endedAt, exit_code: out.exitCode, signal: out.signal, stop_reason: out.reason });
  return { jobId: id, ...out, attempts, startedAt, endedAt, logPath, gpu: slot.gpu, slot: slot.index, leftovers: [] };
}
