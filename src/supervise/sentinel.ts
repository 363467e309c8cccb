import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readStat } from '../proc/stat.ts';
import type { Identity } from '../proc/identity.ts';
import { selfCommand } from './self-command.ts';
import { envStrings, posixSpawnSync, type NativeFd } from '../os/posix-spawn.ts';
import { NativeChild, watchNativeChild } from './native-child.ts';
import { nativeSpawnLib } from './spawn-job.ts';
import './reaper.ts'; // before any spawn: it records every child Node starts

/** The sentinel's file descriptors: its copy of the run's scope, and corral's own stderr for the summary. */
export const SCOPE_FD = 3;
export const NOTIFY_FD = 4;

/*
 * The sentinel is a shell blocked in read(2) on a pipe that only the supervisor holds the write end of
 * (opened close-on-exec, by posix-spawn.ts or libuv, so no job inherits it). A clean shutdown writes "clean"; any other end of
 * the supervisor (SIGKILL, a crash) closes the pipe, read returns end-of-file, and the shell execs corral's
 * teardown for the run. The scope it tears down travels in the file on fd 3 (sentinel-scope.ts), which the
 * supervisor keeps appending to: the shell never wakes for it. Idle, it is one dash process: about a
 * megabyte resident, no Node.
 */
// $0 is the run id; "$@" starts corral again (selfCommand: the single-file binary alone, else Node and bin/corral.js).
const SCRIPT = `read -r line; [ "$line" = clean ] && exit 0; exec "$@" __sentinel "$0" --scope-fd ${SCOPE_FD} --notify-fd ${NOTIFY_FD}`;

export interface Sentinel {
  identity: Identity;
  child: ChildProcess | NativeChild;
  /** resolves when Node has collected the sentinel's exit (it is then not even a zombie) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** tells the sentinel the supervisor finished its own teardown; it then exits */
  markClean(): void;
}

export function startSentinel(runId: string, logDir: string, scopeFd: number): Sentinel {
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  // Opened once, here: the sentinel keeps writing to it after the home is removed (as an unlinked file).
  const log = openSync(join(logDir, `${runId}.sentinel.log`), 'a', 0o600);
  let child: ChildProcess | NativeChild;
  try {
    const args = ['-c', SCRIPT, runId, ...selfCommand()];
    const stdio: NativeFd[] = ['pipe', log, log, scopeFd, hasFd(2) ? 2 : 'ignore'];
    const env = { ...process.env, CORRAL_SENTINEL: '1' };
    child = nativeSentinel(args, env, stdio) ?? spawn('/bin/sh', args, {
      detached: true, // its own session: a Ctrl-C to the terminal's foreground group does not reach it
      stdio: stdio as ('pipe' | 'ignore' | number)[],
      env,
    });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', () => {}); // a failed spawn shows as an exit without a pid; the caller sees pid undefined
  child.unref();
  const pid = child.pid ?? 0;
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on('error', () => {}); // EPIPE when the sentinel is already gone: the keeper notices its exit
  return {
    identity: { pid, starttime: readStat(pid)?.starttime ?? -1 },
    child,
    exited,
    markClean() {
      child.stdin?.end('clean\n');
    },
  };
}

/**
 * The sentinel started by posix_spawn on this thread (src/os/posix-spawn.ts), with what Node's spawn gives
 * it: its own session, the same fds and environment. Node's spawn forks the whole supervisor first (5-7 ms
 * of every run's start here); CORRAL_NODE_SPAWN=1 or bindings that cannot load keep Node's (null).
 */
function nativeSentinel(args: string[], env: NodeJS.ProcessEnv, stdio: NativeFd[]): NativeChild | null {
  const lib = nativeSpawnLib();
  if (!lib) return null;
  let result;
  try {
    result = posixSpawnSync(lib, { file: '/bin/sh', argv: ['/bin/sh', ...args], env: envStrings(env), stdio });
  } catch {
    return null;
  }
  if ('errno' in result) return null; // Node's spawn then reports it as it always has
  const child = new NativeChild('/bin/sh', result.pid, result.fds);
  watchNativeChild(child);
  return child;
}

function hasFd(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}
