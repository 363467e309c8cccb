import { writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { registryOfRun } from '../../src/ledger/registry.ts';
import { getRun, listRuns, type RunRow } from '../../src/ledger/runs.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { startCorral, type CorralProcess } from '../helpers/corral.ts';
import { findByToken, waitFor, type Tracker } from '../helpers/procs.ts';
import { signalIdentity } from '../../src/proc/signal.ts';

/** A job script in a temp dir: its output goes nowhere, so nothing holds the test's pipes to corral open. */
export function jobScript(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'corral-job-'));
  chmodSync(dir, 0o755);
  const path = join(dir, 'job.sh');
  writeFileSync(path, `#!/bin/sh\nexec >/dev/null 2>&1\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/**
 * A module preloaded into corral itself (NODE_OPTIONS=--import), for a test that looks inside the real
 * supervisor (the modules it loaded, its heap); the scratch directory goes when the test ends.
 */
export function preloadHook(t: TestContext, source: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'corral-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hook = join(dir, 'hook.mjs');
  writeFileSync(hook, source);
  return { dir, env: { NODE_OPTIONS: `--import=${hook}` } };
}

export const ledgerOf = (home: string) => openLedger(join(home, 'ledger.sqlite'));

export function runRow(home: string, id?: string): RunRow | undefined {
  const db = ledgerOf(home);
  try {
    return id ? getRun(db, id) : listRuns(db)[0];
  } finally {
    db.close();
  }
}

export interface LiveRun {
  corral: CorralProcess;
  run: RunRow;
  exited: Promise<number | null>;
}

/** Starts `corral run ARGS -- SCRIPT` and waits until its sentinel is recorded and `count` of the job's processes carry the token. */
export async function startRun(t: Tracker, home: string, token: string, args: string[], script: string, count: number): Promise<LiveRun> {
  const corral = startCorral(['run', ...args, '--', script], { home, env: { CORRAL_TEST_TOKEN: token, CORRAL_POLL_MS: '50' } });
  t.pid(corral.child.pid);
  const exited = new Promise<number | null>((resolve) => corral.child.once('exit', (code) => resolve(code)));
  const run = await waitFor(() => {
    const r = runRow(home);
    return r?.sentinel_pid ? r : undefined;
  }, 'the run and its sentinel in the ledger');
  t.pid(run.sentinel_pid!);
  await waitFor(() => findByToken(token).filter((p) => p.state !== 'Z' && p.pid !== corral.child.pid && p.pid !== run.sentinel_pid).length >= count, `${count} job processes`);
  for (const p of findByToken(token)) t.pid(p.pid);
  return { corral, run, exited };
}

/** The supervisor's exit status, or a failure after the bound: a test never waits for ever. */
export async function exitOf(live: LiveRun, ms = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`corral (pid ${live.corral.child.pid}) did not exit within ${ms}ms`)), ms)));
  try {
    return await Promise.race([live.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes the run lost: SIGSTOP its supervisor, SIGKILL its sentinel (so nothing tears the run down), then
 * SIGKILL the supervisor. Returns
 * the job processes still alive, from the registry, once the supervisor is gone.
 */
export async function loseRun(t: Tracker, home: string, live: LiveRun, count: number): Promise<number[]> {
  const { run } = live;
  const db = ledgerOf(home);
  await waitFor(() => registryOfRun(db, run.id, { live: true }).length >= count, `${count} registry rows`);
  db.close();
  // Stopped first, the supervisor cannot start a new sentinel when the first one dies.
  live.corral.child.kill('SIGSTOP');
  t.cgroup(run.cgroup); // nothing tears a lost run down: the test removes its empty cgroup at the end
  signalIdentity({ pid: run.sentinel_pid!, starttime: run.sentinel_starttime! }, 'SIGKILL');
  await waitFor(() => !isAlive({ pid: run.sentinel_pid!, starttime: run.sentinel_starttime! }), 'the sentinel to die');
  live.corral.child.kill('SIGKILL');
  await exitOf(live);
  const again = ledgerOf(home);
  const rows = registryOfRun(again, run.id).filter((r) => isAlive(r));
  again.close();
  await waitFor(() => rows.every((r) => readStat(r.pid)?.ppid !== run.supervisor_pid), "the job's processes to lose their supervisor");
  for (const r of rows) t.pid(r.pid);
  return rows.map((r) => r.pid);
}
