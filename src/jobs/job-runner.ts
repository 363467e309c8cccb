import type { StdioOptions } from 'node:child_process';
import { createJobCgroup, jobCgroupPath, warmCgroupMigration } from '../os/cgroup.ts';
import type { Db } from '../ledger/db.ts';
import { addEvent } from '../ledger/events.ts';
import { finishAttempt, insertAttempt, insertJob, updateJob } from '../ledger/jobs.ts';
import { writeTogether } from '../ledger/patient-db.ts';
import type { Identity } from '../proc/identity.ts';
import { signalNumberOf } from '../config/signals.ts';
import { exitStatusOf, restartDelayMs, shouldRestart, type AttemptEnd, type RestartPolicy, type StopReason } from '../supervise/restart-policy.ts';
import type { JobScope } from '../supervise/scope.ts';
import { spawnJob } from '../supervise/spawn-job.ts';
import { teardown, type TeardownResult } from '../supervise/teardown.ts';
import { setLongTimeout, sleepLong, type LongTimer } from '../supervise/long-timer.ts';
import { describeAttemptEnd } from './attempt-text.ts';
import { attachLog } from './job-log.ts';
import type { LineEcho } from './line-echo.ts';
import { DEFAULT_LOG_MAX } from './log-file.ts';
import { awaitLeaderExit, waitExit } from './leader-exit.ts';
import { monotonicMs } from '../proc/clock.ts';

export interface JobSpec {
  name: string;
  role: 'main' | 'sidecar' | 'task';
  argv: string[];
  restart: RestartPolicy;
  timeoutMs?: number;
  maxRuntimeMs?: number;
  graceMs: number;
  stopSignal: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  gpus?: string;
  logPath?: string;
  /** with a log: also echo to corral's own stdout/stderr */
  echo?: boolean | LineEcho;
  /** the log's size cap (default DEFAULT_LOG_MAX): past it the log rotates to PATH.1, keeping the newest */
  logMaxBytes?: number;
  stdio?: StdioOptions;
  item?: string;
  stage?: string;
}

export interface JobContext {
  db: Db;
  runId: string;
  runCgroup: string | null;
  runStartTicks: number;
  exclude: number[];
  registry: (jobId: string) => Identity[];
  unkillableMs: number;
  abort: AbortSignal;
  onEvent?: (kind: string, data: Record<string, unknown>) => void;
  /** called as soon as an attempt's leader exists, before any ledger write: the sentinel's copy learns it now */
  onAttemptStart?: () => void;
  /** the run has this one job only (see JobScope.soleJob) */
  soleJob?: boolean;
}

export interface JobOutcome {
  jobId: string;
  end: AttemptEnd;
  status: number;
  attempts: number;
  leftovers: TeardownResult['leftovers'];
  /** how the last attempt itself ended, when the job was stopped while waiting to restart it */
  lastAttempt?: AttemptEnd;
}

/** An attempt's outcome; its ledger writes (record) and its 'end' notice are the caller's to make. */
interface AttemptResult {
  end: AttemptEnd;
  leftovers: TeardownResult['leftovers'];
  record: () => void;
  announce: () => void;
}

function finalFields(attempts: number, end: AttemptEnd) {
  const state = end.reason === 'exited' && end.exitCode === 0 ? 'succeeded' : end.reason === 'main-ended' ? 'stopped' : 'failed';
  return { attempts, state, ended_at: Date.now(), exit_code: end.exitCode, signal: end.signal, stop_reason: end.reason } as const;
}

/** One supervised job: its attempts, restart policy and limits; every attempt's whole tree is torn down before the next. */
export class JobRunner {
  readonly id: string;
  readonly spec: JobSpec;
  private ctx: JobContext;
  private cgroup: string | null = null;
  private leader: Identity | null = null;
  private stopReason: StopReason | null = null;
  private wake: (() => void) | null = null;
  /** monotonicMs() at the job's start: --max-runtime counts on the monotonic clock, not the wall clock */
  private startedMono = 0;
  /** an attempt whose leader outlived its teardown: no further attempt may start beside it */
  private leaderLeft = false;

  constructor(ctx: JobContext, id: string, spec: JobSpec) {
    this.ctx = ctx;
    this.id = id;
    this.spec = spec;
  }

  scope(): JobScope {
    return {
      runId: this.ctx.runId,
      jobId: this.id,
      cgroup: this.cgroup,
      leader: this.leader,
      registry: this.ctx.registry(this.id),
      sinceTicks: this.ctx.runStartTicks,
      soleJob: this.ctx.soleJob,
    };
  }

  get running(): boolean {
    return this.leader !== null;
  }

  /** Ends the job: the current attempt is torn down and no further attempt starts. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.wake?.();
  }

  async run(): Promise<JobOutcome> {
    const { db, runId } = this.ctx;
    const s = this.spec;
    // The job's row first, in the order jobs start (a pool's tasks are listed as they were started: the
    // mkdir below resolves in any order); its cgroup exists before its first process.
    const suffix = this.id.slice(runId.length + 1);
    const cgroup = this.ctx.runCgroup ? jobCgroupPath(this.ctx.runCgroup, suffix) : null;
    insertJob(db, { id: this.id, run_id: runId, role: s.role, name: s.name, argv: JSON.stringify(s.argv), gpus: s.gpus ?? null, cgroup, log_path: s.logPath ?? null, item: s.item ?? null, stage: s.stage ?? null, state: 'running', started_at: Date.now() });
    if (this.ctx.runCgroup) {
      warmCgroupMigration(this.ctx.runCgroup);
      try {
        this.cgroup = await createJobCgroup(this.ctx.runCgroup, suffix);
      } catch (e) {
        updateJob(db, this.id, { state: 'failed', ended_at: Date.now() });
        throw e;
      }
    }
    this.startedMono = monotonicMs();
    let n = 0;
    let lastAttempt: AttemptEnd | undefined;
    let last: AttemptResult | undefined;
    while (true) {
      n++;
      last = await this.attempt(n, last?.end);
      const again = !this.stopReason && !this.leaderLeft && shouldRestart(s.restart, last.end, n - 1);
      // the attempt's end and the job's (its count, or how it ended) are one moment: one transaction
      const ended = last;
      writeTogether(db, () => {
        ended.record();
        updateJob(db, this.id, again ? { attempts: n } : finalFields(n, ended.end));
      });
      ended.announce();
      if (!again) break;
      const delayMs = restartDelayMs(s.restart, n);
      // what a person asks next: why the last attempt ended, and under what limit
      const limits = { timeoutMs: s.timeoutMs ?? null, maxRuntimeMs: s.maxRuntimeMs ?? null };
      this.ctx.onEvent?.('restart', { job: s.name, attempt: n + 1, delayMs, previous: last.end, ...limits, why: describeAttemptEnd(last.end, limits) });
      if (await this.waitOrStop(delayMs)) {
        // stopped between attempts: the job ended for that reason, not the way its last attempt did
        lastAttempt = last.end;
        last = { ...last, end: { ...last.end, reason: this.stopReason! } };
        updateJob(db, this.id, finalFields(n, last.end));
        break;
      }
    }
    const end = last.end;
    const status = exitStatusOf(end, signalNumberOf);
    return { jobId: this.id, end, status, attempts: n, leftovers: last.leftovers, ...(lastAttempt ? { lastAttempt } : {}) };
  }

  /** Sleeps (any length: a chained monotonic timer), waking early on stop; true when stopped. */
  private async waitOrStop(ms: number): Promise<boolean> {
    if (this.stopReason) return true;
    // the timer is cancelled on stop: a pending 30s restart delay must not keep corral alive after the run
    const cancel = new AbortController();
    await Promise.race([sleepLong(ms, { signal: cancel.signal }), new Promise<void>((r) => (this.wake = r))]);
    cancel.abort();
    this.wake = null;
    return this.stopReason !== null;
  }

  /** Ledger events of the job's log (rotated, truncated, cut); a busy ledger must not end the job. */
  private recordLog(n: number, kind: string, data: Record<string, unknown>): void {
    try {
      addEvent(this.ctx.db, this.ctx.runId, this.id, kind, { n, ...data });
    } catch {
      /* the log itself still says what it holds */
    }
  }

  private async attempt(n: number, previous?: AttemptEnd): Promise<AttemptResult> {
    const { db, runId } = this.ctx;
    const s = this.spec;
    const started = Date.now();
    const log = s.logPath
      ? await attachLog({
          path: s.logPath, attempt: n, previous: previous && describeAttemptEnd(previous, { timeoutMs: s.timeoutMs, maxRuntimeMs: s.maxRuntimeMs }), echo: s.echo ?? true, capBytes: s.logMaxBytes ?? DEFAULT_LOG_MAX,
          record: (kind, data) => this.recordLog(n, kind, data), notify: (line) => this.ctx.onEvent?.('log', { job: s.name, line }),
        })
      : null;
    const { child, leader } = await spawnJob({ argv: s.argv, runId, jobId: this.id, env: s.env, cwd: s.cwd, cgroup: this.cgroup, stdio: log ? [Array.isArray(s.stdio) ? s.stdio[0] : 'inherit', 'pipe', 'pipe'] : (s.stdio ?? 'inherit') });
    if (log) log.pipe(child);
    this.leader = leader.pid > 0 ? leader : null;
    this.ctx.onAttemptStart?.();
    let attemptId = 0;
    writeTogether(db, () => {
      attemptId = insertAttempt(db, { job_id: this.id, run_id: runId, n, pid: leader.pid, starttime: leader.starttime, pgid: leader.pid, sid: leader.pid, cgroup: this.cgroup, started_at: started });
      addEvent(db, runId, this.id, 'attempt-start', { n, pid: leader.pid });
    });
    this.ctx.onEvent?.('start', { job: s.name, attempt: n, pid: leader.pid });
    const exited = waitExit(child);
    // Whichever limit comes first ends the attempt; which one it is is known now, not when it fires.
    // Both limits count on the monotonic clock, and through a chained timer: a step of the wall clock
    // does not move them, and a limit past 24.8 days (Node's 2^31 ms) does not fire at once.
    const runtimeLeft = s.maxRuntimeMs ? Math.max(0, this.startedMono + s.maxRuntimeMs - monotonicMs()) : undefined;
    const limit: [number, StopReason] | undefined =
      s.timeoutMs && (runtimeLeft === undefined || s.timeoutMs < runtimeLeft) ? [s.timeoutMs, 'timeout'] : runtimeLeft !== undefined ? [runtimeLeft, 'max-runtime'] : undefined;
    let timer: LongTimer | undefined;
    const limitHit = new Promise<StopReason>((resolve) => {
      if (limit) timer = setLongTimeout(() => resolve(limit[1]), limit[0]);
    });
    const stopped = new Promise<StopReason>((resolve) => {
      if (this.stopReason) resolve(this.stopReason);
      else this.wake = () => resolve(this.stopReason!);
    });
    const first = await Promise.race([exited.then(() => 'exited' as const), limitHit, stopped]);
    timer?.cancel();
    this.wake = null;
    if (first === 'max-runtime') this.stopReason = 'max-runtime';
    const teardownStarted = monotonicMs();
    const result = await teardown([this.scope()], {
      signal: s.stopSignal, graceMs: s.graceMs, unkillableMs: this.ctx.unkillableMs, exclude: this.ctx.exclude, abort: this.ctx.abort,
    });
    // Never an unbounded wait: a leader that outlived its teardown (EPERM, D state) is reported, not awaited.
    const budget = teardownStarted + s.graceMs + this.ctx.unkillableMs - monotonicMs();
    const exit = await awaitLeaderExit(child, exited, this.leader, result.leftovers, budget, this.ctx.abort);
    if (exit.abandoned) {
      this.leaderLeft = true;
      addEvent(db, runId, this.id, 'leader-abandoned', { n, pid: leader.pid, leftovers: result.leftovers.length });
    }
    await log?.close();
    // A leftover may hold the job's pipes open for ever: they must not keep corral alive.
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.leader = null;
    if (exit.spawnError) this.ctx.onEvent?.('spawn-error', { job: s.name, error: exit.spawnError });
    const end: AttemptEnd = { exitCode: exit.code, signal: exit.signal, reason: first === 'exited' ? (exit.spawnError ? 'spawn-failed' : 'exited') : first };
    const ended = Date.now();
    // refused: a marker of this job on another uid's process (forgeable), reported and never signalled
    const refused = result.refused.map((r) => ({ pid: r.pid, uid: r.uid, why: r.why }));
    const record = () => {
      finishAttempt(db, attemptId, { ended_at: ended, exit_code: exit.code, signal: exit.signal, stop_reason: end.reason, leftovers: result.leftovers.length ? JSON.stringify(result.leftovers) : null });
      addEvent(db, runId, this.id, 'attempt-end', { n, ...end, members: result.members.length, leftovers: result.leftovers.length, teardownMs: Math.round(result.ms), ...(refused.length ? { refused } : {}) }, ended);
    };
    const announce = () => this.ctx.onEvent?.('end', { job: s.name, attempt: n, ...end, leftovers: result.leftovers, refused });
    return { end, leftovers: result.leftovers, record, announce };
  }
}
