import { rmdir } from 'node:fs/promises';
import { DEFAULT_STAGE_NAME, type PoolSlot } from '../config/pool-spec.ts';
import { renderCommand } from '../config/template.ts';
import { addEvent } from '../ledger/events.ts';
import { jobIdFor } from '../ledger/ids.ts';
import { insertJob, updateJob } from '../ledger/jobs.ts';
import type { JobContext } from './job-runner.ts';
import { JobRunner } from './job-runner.ts';
import { tagOf, type LineEcho } from './line-echo.ts';
import type { PoolTask, TaskResult } from './pool-plan.ts';
import type { RunSession } from './run-session.ts';

export interface TaskOutput {
  /** --line-buffer: each task's output also reaches corral's stdout/stderr, whole lines at a time */
  lineBuffer: boolean;
  /** --tag: as --line-buffer, each line prefixed with the task's item (and stage) and a TAB */
  tag: boolean;
}

// Set once by `corral pool` before the pool starts; how a task's output is shown is this process's
// choice, not part of the pool (a resume may show it differently), so it is not in the spec.
let taskOutput: TaskOutput = { lineBuffer: false, tag: false };
export function setTaskOutput(o: TaskOutput): void {
  taskOutput = o;
}

function echoOf(task: PoolTask): false | LineEcho {
  if (taskOutput.tag) return { prefix: tagOf(task.stage.name, task.item.value, task.stage.name === DEFAULT_STAGE_NAME) };
  return taskOutput.lineBuffer ? { prefix: '' } : false;
}

/**
 * One pool task on one slot: a JobRunner (role 'task') with the slot's GPU in its environment, its own
 * log file, the stage's timeout, stop signal and grace, and retries as the runner's on-failure restarts
 * with doubling backoff, so the ledger holds one job per task with every attempt under it.
 */
export function buildTaskRunner(session: RunSession, ctx: JobContext, task: PoolTask, slot: PoolSlot, logMaxBytes?: number | null, baseEnv: NodeJS.ProcessEnv = process.env): JobRunner {
  const { stage, item } = task;
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...stage.env };
  if (slot.gpu !== null) {
    env.CUDA_VISIBLE_DEVICES = String(slot.gpu);
    env.CORRAL_GPU = String(slot.gpu);
  }
  return new JobRunner(ctx, jobIdFor(session.id, task.name), {
    name: task.name,
    role: 'task',
    argv: renderCommand(stage.run, { item, gpu: slot.gpu }),
    env,
    cwd: stage.cwd,
    gpus: slot.gpu === null ? undefined : String(slot.gpu),
    logPath: session.logPath(task.name),
    logMaxBytes: logMaxBytes ?? undefined,
    echo: echoOf(task),
    stdio: ['ignore', 'pipe', 'pipe'],
    item: item.value,
    stage: stage.name,
    timeoutMs: stage.timeoutMs ?? undefined,
    graceMs: stage.graceMs,
    stopSignal: stage.stopSignal,
    restart: { mode: 'on-failure', maxRestarts: stage.retries, delayMs: stage.backoffMs, factor: 2, maxDelayMs: stage.backoffMaxMs },
  });
}

/**
 * Runs the task to its end (all attempts) and commits its result before returning, so that the slot
 * is only reused once the ledger knows how the task ended. The job's cgroup goes with it: the
 * teardown has verified it empty.
 */
export async function runTaskOnSlot(session: RunSession, runner: JobRunner, slot: PoolSlot): Promise<TaskResult> {
  const startedAt = Date.now();
  session.runners.push(runner);
  try {
    const out = await runner.run();
    const reason = out.end.reason;
    const state = reason === 'exited' && out.end.exitCode === 0 ? 'succeeded' : reason === 'signal' || reason === 'halted' ? 'stopped' : 'failed';
    // JobRunner calls a job ended by a signal 'failed'; for a pool it was interrupted, and resumable.
    if (state === 'stopped') updateJob(session.db, runner.id, { state: 'stopped' });
    // rmdir of a cgroup takes milliseconds in the kernel: off the main thread (the teardown verified it empty)
    const cgroup = runner.scope().cgroup;
    if (cgroup) void rmdir(cgroup).catch(() => {});
    const endedAt = Date.now();
    return {
      jobId: runner.id, state, exitCode: out.end.exitCode, signal: out.end.signal, reason, status: out.status, attempts: out.attempts,
      startedAt, endedAt, logPath: runner.spec.logPath ?? null, gpu: slot.gpu, slot: slot.index, leftovers: out.leftovers,
      ...(out.lastAttempt ? { lastAttemptReason: out.lastAttempt.reason } : {}),
    };
  } finally {
    session.runners.splice(session.runners.indexOf(runner), 1);
  }
}

/** A task the preflight check refused (policy fail): it never started, and the ledger says why. */
export function recordRefusedTask(session: RunSession, task: PoolTask, slot: PoolSlot, why: string): TaskResult {
  const now = Date.now();
  const jobId = recordUnrunTask(session, task, slot.gpu, 'failed', 'preflight');
  addEvent(session.db, session.id, jobId, 'preflight-refused', { gpu: slot.gpu, why });
  return { jobId, state: 'failed', exitCode: null, signal: null, reason: 'preflight', status: 1, attempts: 0, startedAt: now, endedAt: now, logPath: null, gpu: slot.gpu, slot: slot.index, leftovers: [] };
}

/** A job row for a task that did not run: refused by preflight, or skipped because a stage it needs failed. */
export function recordUnrunTask(session: RunSession, task: PoolTask, gpu: number | null, state: 'failed' | 'skipped', reason: string): string {
  const now = Date.now();
  const jobId = jobIdFor(session.id, task.name);
  insertJob(session.db, {
    id: jobId, run_id: session.id, role: 'task', name: task.name, argv: JSON.stringify(describeArgv(task, gpu)),
    gpus: gpu === null ? null : String(gpu), item: task.item.value, stage: task.stage.name, state,
  });
  updateJob(session.db, jobId, { ended_at: now, stop_reason: reason, ...(state === 'failed' ? { started_at: now } : {}) });
  return jobId;
}

/** The argv a task would have run; a skipped task has no GPU, so {gpu} stays as written. */
function describeArgv(task: PoolTask, gpu: number | null): string[] {
  try {
    return renderCommand(task.stage.run, { item: task.item, gpu });
  } catch {
    return task.stage.run.kind === 'shell' ? ['sh', '-c', task.stage.run.script] : task.stage.run.argv;
  }
}
