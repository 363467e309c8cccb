import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../config/duration.ts';
import type { Db } from '../ledger/db.ts';
import { addEvent } from '../ledger/events.ts';
import { recordLostRun, unfinishedJobs } from '../ledger/lost-run.ts';
import { runState } from '../ledger/run-state.ts';
import { getRun, type RunRow } from '../ledger/runs.ts';
import { removeCgroup } from '../os/cgroup.ts';
import { signalIdentity } from '../proc/signal.ts';
import { scopesFromLedger } from './ledger-scopes.ts';
import type { Leftover } from './leftovers.ts';
import { STOP_REQUESTED } from './signals.ts';
import { teardown } from './teardown.ts';
import { monotonicMs } from '../proc/clock.ts';

/** How `corral stop` ended a run. */
export type StopOutcome =
  /** the live supervisor tore the run down on request */
  | 'stopped'
  /** the supervisor was gone: corral stop (or the run's sentinel, while stop waited) tore it down */
  | 'torn-down'
  /** the row had already ended */
  | 'ended'
  /** the supervisor belongs to another user */
  | 'eperm'
  /** the supervisor did not end within the bound, even after the request to kill at once */
  | 'timeout';

export interface StopResult {
  outcome: StopOutcome;
  run: RunRow;
  /** processes the teardown signalled (lost runs only) */
  members: number;
  leftovers: Leftover[];
  ms: number;
}

export interface StopOptions {
  /** how long the run may take to stop gracefully; default: its own --grace (and its own timing) */
  graceMs?: number;
  say?: (line: string) => void;
}

const UNKILLABLE_MS = 5_000;
const MARGIN_MS = 10_000;

function configOf(run: RunRow): { graceMs: number; stopSignal: NodeJS.Signals } {
  try {
    const c = JSON.parse(run.config ?? '{}') as { graceMs?: number; stopSignal?: NodeJS.Signals };
    return { graceMs: c.graceMs ?? 10_000, stopSignal: c.stopSignal ?? 'SIGTERM' };
  } catch {
    return { graceMs: 10_000, stopSignal: 'SIGTERM' };
  }
}

function mayStop(pid: number): boolean {
  const uid = process.getuid?.() ?? 0;
  try {
    return uid === 0 || statSync(`/proc/${pid}`).uid === uid;
  } catch {
    return true; // gone: the signal will say so
  }
}

/** Polls the row (monotonic deadline) until it is no longer 'running' or `gone()` says nobody will end it. */
async function waitEnded(db: Db, runId: string, ms: number, gone: () => boolean): Promise<RunRow | null> {
  const deadline = monotonicMs() + ms;
  while (true) {
    const row = getRun(db, runId);
    if (row && row.status !== 'running') return row;
    if (gone() || monotonicMs() > deadline) return null;
    await sleep(50);
  }
}

/**
 * Stops a run. A live supervisor is asked: the request goes into the ledger (so its SIGTERM handler
 * records 'stopped', not 'interrupted'), then SIGTERM through the identity check; after the grace a
 * second SIGTERM makes it kill at once, as a second Ctrl-C does. A run whose supervisor is gone is
 * torn down here from ledger data, like its sentinel would (waiting first for a live sentinel to do it).
 */
export async function stopRun(db: Db, run: RunRow, opts: StopOptions = {}): Promise<StopResult> {
  const started = monotonicMs();
  const done = (outcome: StopOutcome, row: RunRow, members = 0, leftovers: Leftover[] = []): StopResult => ({ outcome, run: row, members, leftovers, ms: monotonicMs() - started });
  if (run.status !== 'running') return done('ended', run);
  const config = configOf(run);
  const state = runState(run);
  if (state.supervisorAlive) {
    const supervisor = { pid: run.supervisor_pid!, starttime: run.supervisor_starttime! };
    // another user's run: say so before writing a request into a ledger that is not ours to write
    if (!mayStop(supervisor.pid)) return done('eperm', run);
    addEvent(db, run.id, null, STOP_REQUESTED, { graceMs: opts.graceMs ?? null, uid: process.getuid?.() ?? null, pid: process.pid });
    const sent = signalIdentity(supervisor, 'SIGTERM');
    if (sent === 'eperm') return done('eperm', run);
    if (sent === 'sent') {
      const supervisorGone = () => !runState(getRun(db, run.id) ?? run).supervisorAlive;
      // its jobs' teardown, then its own sweep, each within its grace; then the unkillable timeout
      const graceful = opts.graceMs ?? 2 * config.graceMs + UNKILLABLE_MS + MARGIN_MS;
      let row = await waitEnded(db, run.id, graceful, supervisorGone);
      if (!row && !supervisorGone()) {
        opts.say?.(`run ${run.id} did not stop within ${formatDuration(graceful)}: asking its supervisor to kill at once`);
        signalIdentity(supervisor, 'SIGTERM');
        row = await waitEnded(db, run.id, UNKILLABLE_MS + MARGIN_MS, supervisorGone);
      }
      if (row) return done('stopped', row);
      if (!supervisorGone()) return done('timeout', getRun(db, run.id) ?? run);
    }
    // the supervisor died meanwhile without recording an end: a lost run, handled below
  }
  const now = runState(getRun(db, run.id) ?? run);
  if (now.sentinelAlive) {
    opts.say?.(`run ${run.id} lost its supervisor; its sentinel is tearing it down`);
    const row = await waitEnded(db, run.id, config.graceMs + UNKILLABLE_MS + MARGIN_MS, () => !runState(getRun(db, run.id) ?? run).sentinelAlive);
    if (row) return done('torn-down', row);
  }
  const current = getRun(db, run.id) ?? run;
  if (current.status !== 'running') return done('torn-down', current);
  return tearDownLost(db, current, { graceMs: opts.graceMs ?? config.graceMs, signal: config.stopSignal }, done);
}

/** The sentinel's work, done by `corral stop` for a run whose supervisor and sentinel are both gone. */
async function tearDownLost(db: Db, run: RunRow, opts: { graceMs: number; signal: NodeJS.Signals }, done: (o: StopOutcome, r: RunRow, m: number, l: Leftover[]) => StopResult): Promise<StopResult> {
  const jobs = unfinishedJobs(db, run.id);
  const startedMs = monotonicMs();
  const result = await teardown(scopesFromLedger(db, run, { jobs }), { signal: opts.signal, graceMs: opts.graceMs, unkillableMs: UNKILLABLE_MS });
  if (run.cgroup) removeCgroup(run.cgroup);
  recordLostRun(db, run.id, 'stopped', { jobs, event: { kind: 'stop', data: { by: 'corral stop', members: result.members.length, leftovers: result.leftovers, teardownMs: monotonicMs() - startedMs } } });
  return done('torn-down', getRun(db, run.id) ?? run, result.members.length, result.leftovers);
}
