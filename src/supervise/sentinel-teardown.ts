import { existsSync, statSync, writeSync } from 'node:fs';
import { formatDuration } from '../config/duration.ts';
import { openLedger, type Db } from '../ledger/db.ts';
import { recordLostRun, unfinishedJobs } from '../ledger/lost-run.ts';
import { ledgerPath } from '../ledger/location.ts';
import { getRun } from '../ledger/runs.ts';
import { removeCgroup } from '../os/cgroup.ts';
import { currentBootId, monotonicMs } from '../proc/clock.ts';
import { isAlive, type Identity } from '../proc/identity.ts';
import { scopesFromLedger } from './ledger-scopes.ts';
import { readScopeFd, scopesFromState, unionScopes, type ScopeState } from './sentinel-scope.ts';
import { teardown } from './teardown.ts';

export interface SentinelFds {
  /** the sentinel's own copy of the run's scope (sentinel-scope.ts) */
  scopeFd?: number;
  /** corral's stderr, inherited: where the person who started the run sees the summary */
  notifyFd?: number;
}

/**
 * What the sentinel runs when the supervisor's pipe closes without the clean mark: the same teardown,
 * for every unfinished job of the run, from the scope the supervisor sent it (which survives the home
 * directory being removed) united with the ledger's rows when the ledger is still there, then
 * `supervisor-lost` in the ledger when there is one.
 */
export async function sentinelTeardown(runId: string, log: (s: string) => void, fds: SentinelFds = {}): Promise<number> {
  const say = (s: string) => {
    log(s);
    if (fds.notifyFd !== undefined) writeQuietly(fds.notifyFd, `corral: ${s}\n`);
  };
  let state: ScopeState | null = null;
  if (fds.scopeFd !== undefined) {
    try {
      state = readScopeFd(fds.scopeFd);
    } catch (e) {
      log(`sentinel: could not read its scope (${(e as Error).message}); using the ledger alone`);
    }
  }
  const own = state?.run?.run === runId ? state.run : null;
  const db = openOwnLedger(own?.ledger ?? null, log);
  const run = db ? getRun(db, runId) : undefined;
  try {
    if (!run && !own) {
      log(`sentinel: run ${runId} is in neither the ledger nor its own scope`);
      return 1;
    }
    if (run && run.status !== 'running') return 0; // the supervisor finished its own teardown
    if (own && own.boot !== currentBootId()) return 0; // cannot happen short of a reboot; nothing to name
    const supervisor: Identity | null = own?.supervisor ?? (run?.supervisor_pid && run.supervisor_starttime ? { pid: run.supervisor_pid, starttime: run.supervisor_starttime } : null);
    if (supervisor && isAlive(supervisor)) {
      log(`sentinel: supervisor ${supervisor.pid} is still alive; its pipe closed unexpectedly, tearing down anyway`);
    }
    const config = run ? (JSON.parse(run.config ?? '{}') as { graceMs?: number; stopSignal?: NodeJS.Signals }) : {};
    const jobs = run && db ? unfinishedJobs(db, runId) : [];
    const fromLedger = run && db ? scopesFromLedger(db, run, { jobs }) : [];
    const scopes = unionScopes(state ? scopesFromState(state) : [], fromLedger);
    const started = monotonicMs();
    const result = await teardown(scopes, { signal: own?.signal ?? config.stopSignal ?? 'SIGTERM', graceMs: own?.graceMs ?? config.graceMs ?? 10_000 });
    const runCgroup = own?.cgroup ?? run?.cgroup;
    if (runCgroup) removeCgroup(runCgroup);
    const ms = Math.round(monotonicMs() - started);
    if (run && db) recordLostRun(db, runId, 'supervisor-lost', { jobs, event: { kind: 'supervisor-lost', data: { members: result.members.length, leftovers: result.leftovers, teardownMs: ms } } });
    const where = run ? '' : ' (its ledger is gone: nothing was recorded)';
    say(`sentinel: run ${runId} lost its supervisor; stopped ${result.members.length} process(es) in ${formatDuration(ms)}, ${result.leftovers.length} left${where}`);
    return result.leftovers.length ? 1 : 0;
  } finally {
    db?.close();
  }
}

/**
 * The ledger the run was started with, and only that one: after `rm -rf` of the home, opening the path
 * would create a new, empty ledger (and the home with it). When the supervisor recorded the file's
 * identity, a file now at that path with another inode is someone else's and is not touched either.
 */
function openOwnLedger(recorded: { path: string; dev: number; ino: number } | null, log: (s: string) => void): Db | null {
  const path = recorded?.path ?? ledgerPath();
  try {
    const st = statSync(path);
    if (recorded && (st.dev !== recorded.dev || st.ino !== recorded.ino)) {
      log(`sentinel: ${path} is not the ledger the run started with; tearing down from the sentinel's own scope`);
      return null;
    }
  } catch {
    log(`sentinel: the ledger ${path} is gone; tearing down from the sentinel's own scope`);
    return null;
  }
  return existsSync(path) ? openLedger(path) : null;
}

function writeQuietly(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    /* the terminal went away: the log has it */
  }
}
