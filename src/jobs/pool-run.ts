import type { PoolSlot, PoolSpec } from '../config/pool-spec.ts';
import type { GpuView } from '../gpu/types.ts';
import { addEvent } from '../ledger/events.ts';
import type { RunStatus } from '../ledger/runs.ts';
import type { Leftover } from '../supervise/leftovers.ts';
import type { StopReason } from '../supervise/restart-policy.ts';
import { exitCodeForSignal, handleStopSignals, stopWasRequested } from '../supervise/signals.ts';
import type { JobRunner } from './job-runner.ts';
import { PoolPlan, type PoolTask, type TaskResult } from './pool-plan.ts';
import type { ResumeFrom } from './pool-resume.ts';
import { buildTaskRunner, recordRefusedTask, recordUnrunTask, runTaskOnSlot } from './pool-task.ts';
import { createGpuReaper } from './pool-reap.ts';
import { belongsToRun, Preflight } from './preflight.ts';
import { RunSession } from './run-session.ts';

/** What the scheduler tells the display (src/ui/pool-display.ts, given by the CLI) as the pool goes. */
export interface PoolObserver {
  begin(runId: string, plan: PoolPlan, slots: PoolSlot[]): void;
  started(task: PoolTask, slot: PoolSlot): void;
  /** why: how the attempt before ended, with its limit ('timed out (limit 10s)') */
  retrying(task: PoolTask, attempt: number, delayMs: number, why?: string): void;
  ended(task: PoolTask, skipped: PoolTask[]): void;
  /** a task waits for its GPU (preflight policy wait); why is null when the wait is over */
  waiting(gpu: number, why: string | null): void;
  note(line: string): void;
  close(): void;
}

/** Runs each task elsewhere (corral pool --slurm): the plan, ledger, display and resume stay this scheduler's. */
export interface TaskBackend {
  /** onRetry: a failed attempt is tried again after delayMs (why: how it ended), for the display's retry line */
  start(session: RunSession, task: PoolTask, slot: PoolSlot, onRetry: (attempt: number, delayMs: number, why: string) => void): { stop(reason: StopReason): void; done: Promise<TaskResult> };
}

export interface PoolRunOptions {
  backend?: TaskBackend;
  spec: PoolSpec;
  argv: string[];
  resume?: ResumeFrom;
  /** the GPU probe for preflight checks (probeGpus in the CLI) */
  probe: () => Promise<GpuView>;
  observer: PoolObserver;
  onStart?: (session: RunSession) => void;
  /** once the run's stop handlers are in place: from here on `corral stop` ends it cleanly (--detach) */
  onReady?: (runId: string) => void;
}

export interface PoolResult {
  runId: string;
  resumedFrom: string | null;
  status: RunStatus;
  /** 0 all succeeded; 1 a task failed or was skipped, or the pool halted; 128+N interrupted by signal N */
  exitCode: number;
  stopReason: 'completed' | 'halted' | 'signal';
  startedAt: number;
  endedAt: number;
  tasks: PoolTask[];
  leftovers: Leftover[];
}

/**
 * `corral pool`: one RunSession whose tasks fill the slots. A task starts as soon as a slot is free and
 * its item's earlier stages succeeded; its result is in the ledger before the slot takes the next one.
 * First Ctrl-C: start nothing more, tear the running tasks down gracefully, record 'interrupted'
 * (resumable). Second: kill at once. SIGKILL of corral: the run's sentinel tears everything down.
 */
export async function runPool(opts: PoolRunOptions): Promise<PoolResult> {
  const { spec, observer } = opts;
  const config = { pool: spec, resumeOf: opts.resume?.run.id ?? null };
  const session = new RunSession({ kind: 'pool', name: spec.name ?? undefined, argv: opts.argv, config, graceMs: spec.graceMs, stopSignal: spec.stages[0]?.stopSignal ?? 'SIGTERM' });
  opts.onStart?.(session);
  const startedAt = Date.now();
  const plan = new PoolPlan(spec, opts.resume?.done);
  if (opts.resume) addEvent(session.db, session.id, null, 'resume', { from: opts.resume.run.id, doneBefore: plan.counts().doneBefore });
  const ctx = session.context();
  const running = new Map<PoolTask, Pick<JobRunner, 'stop'> | null>();
  const byName = new Map(plan.tasks.map((t) => [t.name, t]));
  ctx.onEvent = (kind, d) => {
    if (kind === 'log') observer.note(`task ${d.job}: ${d.line}`);
    if (kind === 'restart') observer.retrying(byName.get(String(d.job))!, Number(d.attempt), Number(d.delayMs), typeof d.why === 'string' ? d.why : undefined);
  };
  const stopWaits = new AbortController();
  const retired = new Set<number>();
  let stopReason: PoolResult['stopReason'] = 'completed';
  let failures = 0;
  const halt = (reason: 'halted' | 'signal') => {
    if (stopReason === 'signal') return;
    stopReason = reason;
    stopWaits.abort();
    if (reason === 'signal' || spec.halt.mode === 'now') for (const r of running.values()) r?.stop(reason);
  };
  const reap = spec.preflight === 'reap' ? createGpuReaper(session.db, spec.graceMs) : undefined;
  const preflight = new Preflight({
    reap,
    policy: spec.preflight, minFreeBytes: spec.minFreeMemBytes, probe: opts.probe, say: (l) => observer.note(l),
    ours: (pid) => belongsToRun(pid, session.id, session.poller.identities()),
    onWait: (gpu, why) => observer.waiting(gpu, why),
  });
  let stopRequested = false;
  const signals = handleStopSignals(
    (sig) => {
      stopRequested = stopWasRequested(session.db, session.id);
      observer.note(`${stopRequested ? 'corral stop' : `received ${sig}`}: starting no more tasks, stopping the running ones (again to kill at once)`);
      halt('signal');
    },
    () => {
      observer.note('second signal: killing everything now');
      session.abort.abort();
    },
  );
  opts.onReady?.(session.id);
  observer.begin(session.id, plan, spec.slots);
  observer.note(`run ${session.id}: ${spec.slots.length} slot(s), ${plan.tasks.length} task(s)${opts.resume ? `, ${plan.counts().doneBefore} done in ${opts.resume.run.id}` : ''}; containment ${session.describeContainment()}`);

  // corral's environment, read once: each task's is this and its stage's (reading process.env calls into
  // the runtime for every variable, at each task's start)
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  const runOne = async (task: PoolTask, slot: PoolSlot): Promise<TaskResult | null> => {
    if (opts.backend) {
      // the GPUs are another machine's: the preflight there is the Slurm prolog's
      const handle = opts.backend.start(session, task, slot, (attempt, delayMs, why) => observer.retrying(task, attempt, delayMs, why));
      running.set(task, handle);
      observer.started(task, slot);
      return handle.done;
    }
    const pre = await preflight.beforeTask(slot.gpu, stopWaits.signal);
    if (!pre.go && pre.stopped) return null;
    if (!pre.go) {
      // a busy GPU would otherwise refuse task after task and drain the queue that other GPUs can run
      retired.add(slot.gpu!);
      observer.note(`${pre.reason}: ${task.name} failed; no more tasks go to GPU ${slot.gpu} in this run`);
      return recordRefusedTask(session, task, slot, pre.reason);
    }
    if (stopReason !== 'completed') return null;
    const runner = buildTaskRunner(session, ctx, task, slot, spec.logMaxBytes, baseEnv);
    running.set(task, runner);
    observer.started(task, slot);
    return runTaskOnSlot(session, runner, slot);
  };

  const inflight = new Set<Promise<unknown>>();
  try {
    await new Promise<void>((resolve, reject) => {
      const free = [...spec.slots];
      const pump = () => {
        while (stopReason === 'completed' && free.length) {
          const task = plan.nextReady();
          if (!task) break;
          const slot = free.shift()!;
          plan.take(task);
          running.set(task, null);
          const p = runOne(task, slot).then((result) => {
            running.delete(task);
            if (result) {
              const skipped = plan.settle(task, result);
              for (const t of skipped) recordUnrunTask(session, t, null, 'skipped', `needs ${task.name}`);
              observer.ended(task, skipped);
              if (result.state === 'failed' && spec.halt.mode !== 'never' && ++failures >= spec.halt.failures) {
                observer.note(`halt: ${failures} failed task(s), stopping ${spec.halt.mode === 'now' ? 'now' : 'soon (running tasks finish)'}`);
                halt('halted');
              }
            } else plan.putBack(task);
            if (slot.gpu === null || !retired.has(slot.gpu)) free.push(slot);
            free.sort((a, b) => a.index - b.index);
            pump();
          }).catch(reject);
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        }
        if (running.size === 0) resolve();
      };
      pump();
    });
    const sig = signals.received();
    const counts = plan.counts();
    const ok = counts.failed === 0 && counts.skipped === 0 && counts.pending === 0 && counts.stopped === 0;
    // stopped by corral stop: recorded 'stopped' (resumable like 'interrupted'), exit status 143 like any SIGTERM
    const status: RunStatus = sig ? (stopRequested ? 'stopped' : 'interrupted') : ok ? 'succeeded' : 'failed';
    const exitCode = sig ? exitCodeForSignal(sig) : ok ? 0 : 1;
    const swept = await session.finish(status, status === 'stopped' ? 'stopped' : stopReason, exitCode, session.abort.signal.aborted);
    const leftovers = [...plan.tasks.flatMap((t) => t.result?.leftovers ?? []), ...swept.leftovers];
    return { runId: session.id, resumedFrom: opts.resume?.run.id ?? null, status, exitCode, stopReason, startedAt, endedAt: Date.now(), tasks: plan.tasks, leftovers };
  } catch (e) {
    // An internal failure never leaves processes behind: stop everything, sweep, then report.
    halt('signal');
    await Promise.allSettled(inflight);
    await session.finish('failed', 'internal-error', 125, true).catch(() => {});
    throw e;
  } finally {
    signals.dispose();
    observer.close();
  }
}
