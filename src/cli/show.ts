import type { Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { attemptsOfRun, jobsOfRun, type AttemptRow, type JobRow } from '../ledger/jobs.ts';
import { resolveRunRef } from '../ledger/refs.ts';
import { runState } from '../ledger/run-state.ts';
import { paint, printJson, table, visible } from './output.ts';

/**
 * `corral show RUN`: one run's tasks as the ledger holds them (read-only): per task its stage, item,
 * state, every attempt and how it ended, duration, GPU and log path. What a pool user reaches for after
 * the summary scrolled away: which items failed, on which GPU, and where their logs are.
 */
interface ShownAttempt {
  n: number;
  pid: number | null;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  exitCode: number | null;
  signal: string | null;
  stopReason: string | null;
  ended: string;
}

interface ShownTask {
  id: string;
  name: string;
  role: string;
  stage: string | null;
  itemNumber: number | null;
  item: string | null;
  state: string;
  gpu: string | null;
  durationMs: number | null;
  logPath: string | null;
  stopReason: string | null;
  attempts: ShownAttempt[];
}

/** How an attempt (or a task that never ran) ended, in the words the rest of corral uses. */
export function describeEnded(e: { ended_at: number | null; exit_code: number | null; signal: string | null; stop_reason: string | null }): string {
  if (e.ended_at === null) return 'running';
  switch (e.stop_reason) {
    case 'timeout': return 'timed out';
    case 'preflight': return 'refused by preflight';
    case 'halted': return 'stopped (halt)';
    case 'signal': return 'stopped (interrupted)';
    case 'spawn-failed': return 'could not start';
  }
  if (e.signal) return `killed by ${e.signal}`;
  if (e.exit_code !== null) return `exit ${e.exit_code}`;
  return e.stop_reason ?? 'ended';
}

function showAttempt(a: AttemptRow): ShownAttempt {
  return {
    n: a.n, pid: a.pid, startedAt: a.started_at, endedAt: a.ended_at, durationMs: a.ended_at === null ? null : a.ended_at - a.started_at,
    exitCode: a.exit_code, signal: a.signal, stopReason: a.stop_reason, ended: describeEnded(a),
  };
}

function showTask(j: JobRow, attempts: AttemptRow[], now: number): ShownTask {
  // a task's name is stage.N with N the item's number: the only thing that tells repeated items apart
  const num = /\.(\d+)$/.exec(j.name);
  const started = j.started_at ?? attempts[0]?.started_at ?? null;
  return {
    id: j.id, name: j.name, role: j.role, stage: j.stage, itemNumber: j.role === 'task' && num ? Number(num[1]) : null, item: j.item, state: j.state,
    gpu: j.gpus, durationMs: started === null ? null : (j.ended_at ?? now) - started, logPath: j.log_path, stopReason: j.stop_reason,
    attempts: attempts.map(showAttempt),
  };
}

function middleCut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

function renderTasks(tasks: ShownTask[]): string {
  const rows = tasks.map((t) => [
    t.name,
    t.stage ?? '-',
    middleCut(t.item ?? '-', 40),
    t.state,
    t.attempts.length ? t.attempts.map((a) => `${a.n}: ${a.ended}${a.durationMs === null ? '' : ` (${formatDuration(a.durationMs)})`}`).join(', ') : `none${t.stopReason ? ` (${describeEnded({ ended_at: 0, exit_code: null, signal: null, stop_reason: t.stopReason })})` : ''}`,
    t.durationMs === null ? '-' : formatDuration(t.durationMs),
    t.gpu ?? '-',
    t.logPath ?? '-',
  ].map(visible));
  return table(rows, ['TASK', 'STAGE', 'ITEM', 'STATE', 'ATTEMPTS (HOW EACH ENDED)', 'TIME', 'GPU', 'LOG']);
}

export function register(program: Command): void {
  program
    .command('show')
    .description("one run's tasks: per task its stage, item, state, every attempt and how it ended, duration, GPU and log")
    .argument('<run>', "the run: last, an id or unique prefix, or a name")
    .option('--json', 'machine-readable output (exact strings, times in ms since the epoch)')
    .addHelpText('after', `
Examples:
  corral show last                 the last run's tasks
  corral show last --json | jq '.tasks[] | select(.state == "failed") | .logPath'`)
    .action((ref: string, flags: { json?: boolean }) => {
      const db = openLedgerToRead();
      try {
        const run = resolveRunRef(db, ref);
        const now = Date.now();
        const byJob = new Map<string, AttemptRow[]>();
        for (const a of attemptsOfRun(db, run.id)) byJob.set(a.job_id, [...(byJob.get(a.job_id) ?? []), a]);
        const tasks = jobsOfRun(db, run.id).map((j) => showTask(j, byJob.get(j.id) ?? [], now));
        const status = runState(run).status;
        const shown = {
          id: run.id, name: run.name, kind: run.kind, status, startedAt: run.started_at, endedAt: run.ended_at,
          durationMs: (run.ended_at ?? now) - run.started_at, stopReason: run.stop_reason, exitCode: run.exit_code, tasks,
        };
        if (flags.json) return printJson(shown);
        const head = `${paint(run.id, 'bold')}${run.name ? ` ${visible(run.name)}` : ''}  ${run.kind}, ${status}${run.exit_code !== null ? ` (exit status ${run.exit_code})` : ''}, ${formatDuration(shown.durationMs)}`;
        process.stdout.write(`${head}\n${tasks.length ? renderTasks(tasks) : 'no tasks recorded\n'}`);
      } finally {
        db.close();
      }
    });
}
