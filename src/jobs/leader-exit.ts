import type { JobChild } from '../supervise/spawn-job.ts';
import type { Identity } from '../proc/identity.ts';
import type { Leftover } from '../supervise/leftovers.ts';
import { sleepLong } from '../supervise/long-timer.ts';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  spawnError?: string;
  /** corral stopped waiting: the leader outlived its teardown (EPERM, D state) or the run was aborted */
  abandoned?: boolean;
}

/** The leader's exit as Node reports it; a spawn failure (ENOENT, EACCES) is an exit with 127/126. */
export function waitExit(child: JobChild): Promise<ExitInfo> {
  return new Promise((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        const what = e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied' : e.message;
        resolve({ code: e.code === 'ENOENT' ? 127 : 126, signal: null, spawnError: `${child.spawnfile}: ${what}` });
      }
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** A leader the teardown verified gone: its exit event is a loop turn away; this bounds the wait anyway. */
export const SETTLE_MS = 2000;

/**
 * Waits for the leader's exit after its teardown, never for ever. A leader that outlived the teardown
 * (one corral may not signal, or one stuck in D state) gets at most `budgetMs` (what is left of the
 * teardown's own grace + unkillable time), and a second Ctrl-C (`abort`) ends that wait at once. A leader
 * the teardown saw go gets SETTLE_MS. When the wait ends without an exit, the child is let go: its
 * handle and pipes no longer keep corral alive, and the leftover report names it.
 */
export async function awaitLeaderExit(child: JobChild, exited: Promise<ExitInfo>, leader: Identity | null, leftovers: Leftover[], budgetMs: number, abort: AbortSignal): Promise<ExitInfo> {
  const outlived = leader !== null && leftovers.some((l) => l.pid === leader.pid && l.starttime === leader.starttime);
  const stopWaiting = new AbortController();
  const bound = outlived
    ? sleepLong(Math.max(0, budgetMs), { signal: AbortSignal.any([abort, stopWaiting.signal]) })
    : sleepLong(SETTLE_MS, { signal: stopWaiting.signal });
  const exit = await Promise.race([exited, bound.then((): ExitInfo => ({ code: null, signal: null, abandoned: true }))]);
  stopWaiting.abort();
  if (exit.abandoned) letGo(child);
  return exit;
}

/** Stops holding a child corral cannot end: it may outlive corral, which must still exit. */
export function letGo(child: JobChild): void {
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.stdin?.destroy();
  child.unref();
}
