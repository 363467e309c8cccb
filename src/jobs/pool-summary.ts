import type { PoolTask } from './pool-plan.ts';
import type { PoolResult } from './pool-run.ts';

/** The end of a pool as data: counts and every task, for --json (the table a person reads is src/ui/pool-summary.ts). */

export interface TaskJson {
  name: string;
  stage: string;
  item: string;
  number: number;
  state: string;
  gpu: number | null;
  slot: number | null;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
  status: number | null;
  attempts: number;
  durationMs: number | null;
  log: string | null;
  leftovers: number;
  job: string | null;
  /** set when the task was stopped while waiting to retry: how its last attempt ended (timeout) */
  lastAttemptReason: string | null;
}

function taskToJson(t: PoolTask): TaskJson {
  const r = t.result;
  return {
    name: t.name, stage: t.stage.name, item: t.item.value, number: t.item.index + 1, state: t.state === 'pending' ? 'not-started' : t.state,
    gpu: r?.gpu ?? null, slot: r?.slot ?? null, exitCode: r?.exitCode ?? null, signal: r?.signal ?? null, reason: r?.reason ?? null,
    status: r?.status ?? null, attempts: r?.attempts ?? 0, durationMs: r ? r.endedAt - r.startedAt : null, log: r?.logPath ?? null,
    leftovers: r?.leftovers.length ?? 0, job: r?.jobId ?? null, lastAttemptReason: r?.lastAttemptReason ?? null,
  };
}

export function summarizeCounts(tasks: PoolTask[]): Record<string, number> {
  const c: Record<string, number> = { total: tasks.length, succeeded: 0, failed: 0, skipped: 0, stopped: 0, notStarted: 0, doneBefore: 0 };
  for (const t of tasks) {
    const k = t.state === 'pending' || t.state === 'running' ? 'notStarted' : t.state === 'done-before' ? 'doneBefore' : t.state;
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

export function poolResultToJson(r: PoolResult): unknown {
  return {
    run: r.runId, resumedFrom: r.resumedFrom, status: r.status, exitCode: r.exitCode, stopReason: r.stopReason,
    durationMs: r.endedAt - r.startedAt, counts: summarizeCounts(r.tasks), tasks: r.tasks.map(taskToJson),
    leftovers: r.leftovers.map((l) => ({ pid: l.pid, user: l.user, state: l.state, command: l.command, why: l.why, fix: l.fix })),
  };
}
