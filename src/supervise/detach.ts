import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { logsDir } from '../ledger/location.ts';
import { duplicateFd } from '../os/tty.ts';
import { selfCommand } from './self-command.ts';

/** Set (to 1) only in the corral that `--detach` re-executes: that one supervises, the first one returns. */
export const DETACHED_VAR = 'CORRAL_DETACHED_SUPERVISOR';
/** The re-executed supervisor writes the run id here once the run can be stopped, then closes it. */
const ANNOUNCE_FD = 3;
/** Starting a run takes well under a second; past this the starting corral stops waiting (never unbounded). */
const START_BOUND_MS = 60_000;

// Read at import, before the CLI copies the environment for the job: a job must not inherit it.
const detachedSupervisor = process.env[DETACHED_VAR] === '1';
delete process.env[DETACHED_VAR];
let announced = false;

export function isDetachedSupervisor(): boolean {
  return detachedSupervisor;
}

/** Where a detached supervisor's own messages go: beside the run's job logs. */
export function supervisorLogPath(runId: string): string {
  return join(logsDir(), runId, 'supervisor.log');
}

/**
 * In the detached supervisor, once its stop handlers are in place: from now on its own messages go to
 * the run's supervisor.log (dup2 onto stderr, so nothing is written to the pipe of the corral that
 * returns), and the run id goes to the starting corral. Does nothing in a corral that was not detached.
 */
export function announceDetached(runId: string): void {
  if (!detachedSupervisor || announced) return;
  announced = true;
  try {
    const path = supervisorLogPath(runId);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'a', 0o600);
    duplicateFd(fd, 2);
    closeSync(fd);
  } catch {
    // no log: the messages go to the closed pipe, which std-streams.ts turns into silence
  }
  try {
    writeSync(ANNOUNCE_FD, `${runId}\n`);
    closeSync(ANNOUNCE_FD);
  } catch {
    /* the starting corral is gone: nobody is waiting for the id */
  }
}

/**
 * `--detach`: runs this same corral command again as a supervisor in a new session (setsid), with stdin
 * and stdout on /dev/null and stderr on a pipe until the run has started. Whatever it says before that
 * (containment, a ledger error) is passed on here. Resolves the run id once the run can be stopped, or
 * null with the supervisor's exit status when it ended before that.
 */
export async function startDetached(): Promise<{ runId: string; pid: number } | { runId: null; status: number }> {
  const [program, ...args] = [...selfCommand(process.execArgv), ...process.argv.slice(2)];
  const child = spawn(program, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, [DETACHED_VAR]: '1' } });
  const announce = child.stdio[3] as Readable;
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const exited = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? constants.signals[sig] : 0))));
  child.once('error', () => {});
  const runId = await new Promise<string | null>((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(null), START_BOUND_MS);
    announce.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.split('\n')[0]!.trim() || null);
      }
    });
    announce.once('close', () => {
      clearTimeout(timer);
      resolve(text.includes('\n') ? text.split('\n')[0]!.trim() || null : null);
    });
  });
  if (runId) {
    child.stderr!.destroy();
    announce.destroy();
    child.unref();
    return { runId, pid: child.pid! };
  }
  const status = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(125), 5000).unref())]);
  child.stderr!.destroy();
  child.unref();
  return { runId: null, status };
}
