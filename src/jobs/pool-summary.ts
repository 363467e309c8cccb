import { formatDuration } from '../config/duration.ts';
import { paint, table } from '../cli/output.ts';
import type { PoolTask } from './pool-plan.ts';
import type { PoolResult } from './pool-run.ts';
import { describeEnd, describeTask } from './progress.ts';

/** The end of a pool: a table per stage, the tasks that did not succeed, and the same as JSON. */
const MAX_LISTED = 20;

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
}

function taskToJson(t: PoolTask): TaskJson {
  const r = t.result;
  return {
    name: t.name, stage: t.stage.name, item: t.item.value, number: t.item.index + 1, state: t.state === 'pending' ? 'not-started' : t.state,
    gpu: r?.gpu ?? null, slot: r?.slot ?? null, exitCode: r?.exitCode ?? null, signal: r?.signal ?? null, reason: r?.reason ?? null,
    status: r?.status ?? null, attempts: r?.attempts ?? 0, durationMs: r ? r.endedAt - r.startedAt : null, log: r?.logPath ?? null,
    leftovers: r?.leftovers.length ?? 0, job: r?.jobId ?? null,
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

export function renderPoolSummary(r: PoolResult, stream: NodeJS.WriteStream = process.stderr): string {
  const stages = [...new Set(r.tasks.map((t) => t.stage.name))];
  const rows = stages.map((s) => {
    const c = summarizeCounts(r.tasks.filter((t) => t.stage.name === s));
    const ran = r.tasks.filter((t) => t.stage.name === s && t.result && t.result.reason !== 'preflight');
    const mean = ran.length ? formatDuration(ran.reduce((a, t) => a + t.result!.endedAt - t.result!.startedAt, 0) / ran.length) : '-';
    const failed = c.failed ? paint(String(c.failed), 'red', stream) : '0';
    return [s, String(c.succeeded), failed, String(c.skipped), String(c.stopped + c.notStarted), String(c.doneBefore), mean];
  });
  let text = table(rows, ['stage', 'ok', 'failed', 'skipped', 'not run', 'done before', 'mean time']);
  const bad = r.tasks.filter((t) => t.state === 'failed' || t.state === 'stopped');
  if (bad.length) {
    const list = bad.slice(0, MAX_LISTED).map((t) => [describeTask(t), t.result?.gpu === null || !t.result ? '-' : `GPU ${t.result.gpu}`, describeEnd(t), String(t.result?.attempts ?? 0), t.result?.logPath ?? '-']);
    text += '\n' + table(list, ['task', 'gpu', 'end', 'attempts', 'log']);
    if (bad.length > MAX_LISTED) text += `... and ${bad.length - MAX_LISTED} more (corral pool --json lists every task)\n`;
  }
  const end = r.status === 'succeeded' ? paint('succeeded', 'green', stream) : paint(r.status, 'red', stream);
  const resume = r.status === 'succeeded' ? '' : `; run what did not succeed with: corral pool --resume ${r.runId}`;
  text += `\nrun ${r.runId} ${end} in ${formatDuration(r.endedAt - r.startedAt)} (exit status ${r.exitCode})${resume}\n`;
  return text;
}
