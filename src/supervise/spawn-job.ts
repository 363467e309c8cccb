import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CGROUP_ENTER_SCRIPT, noteCgroupEntry } from '../os/cgroup.ts';
import { ERRNO_NAMES, loadLibc } from '../os/ffi.ts';
import { envStrings, loadSpawnLib, posixSpawn, type NativeStdio } from '../os/posix-spawn.ts';
import { failNativeChild, NativeChild, watchNativeChild } from './native-child.ts';
import { readStat } from '../proc/stat.ts';
import { JOB_ID_VAR, RUN_ID_VAR } from '../proc/markers.ts';
import type { Identity } from '../proc/identity.ts';
import './reaper.ts'; // before any spawn: it records every child Node starts

export interface SpawnSpec {
  argv: string[];
  runId: string;
  jobId: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** the job's cgroup: the process enters it before any code of the job runs */
  cgroup?: string | null;
  stdio?: StdioOptions;
}

/**
 * Jobs that share corral's terminal (`corral run` in the foreground of one, like `timeout --foreground`):
 * such a job stays in corral's session and process group, the terminal's foreground group, so Ctrl-C,
 * Ctrl-Z, `fg` and window-size changes reach it as under a shell, and /dev/tty opens. Containment does
 * not need its session: cgroup, subreaper, markers, registry and descent from the leader find every
 * process, and the session/group rules find nothing, since no session or group carries the leader's pid.
 */
const terminalJobs = new Set<string>();

export function shareTerminalWith(jobId: string): void {
  terminalJobs.add(jobId);
}

/** What the job runner uses of a child: Node's ChildProcess, or a NativeChild started by posix_spawn. */
export type JobChild = ChildProcess | NativeChild;

export interface Spawned {
  child: JobChild;
  leader: Identity;
}

/** Set to 1, every job is started by Node's own spawn (for comparing the two; the default is the faster one). */
export const NODE_SPAWN_VAR = 'CORRAL_NODE_SPAWN';

/**
 * Starts one attempt under every containment mechanism at once: its own session and process group
 * (detached: setsid; not for a job that shares corral's terminal, see above), the run and job markers in its environment, and, where cgroups are writable, a
 * tiny sh that writes its own pid into the job's cgroup.procs and then execs the command, so nothing
 * the job runs starts outside the cgroup.
 */
export async function spawnJob(spec: SpawnSpec): Promise<Spawned> {
  const env: NodeJS.ProcessEnv = { ...(spec.env ?? process.env), [RUN_ID_VAR]: spec.runId, [JOB_ID_VAR]: spec.jobId };
  let file = spec.argv[0]!;
  let args = spec.argv.slice(1);
  if (spec.cgroup) {
    env.CORRAL_CGROUP_PROCS = join(spec.cgroup, 'cgroup.procs');
    args = ['-c', CGROUP_ENTER_SCRIPT, 'corral-enter', file, ...args];
    file = '/bin/sh';
  }
  const detached = !terminalJobs.has(spec.jobId);
  const native = detached ? nativeStdio(spec.stdio ?? 'inherit') : null;
  const child = (native && (await spawnNative(file, args, env, spec.cwd, native))) || spawn(file, args, { env, cwd: spec.cwd, detached, stdio: spec.stdio ?? 'inherit' });
  // spawn() failures (ENOENT, EACCES) arrive as an 'error' event with no pid.
  const pid = child.pid;
  if (spec.cgroup && pid !== undefined) noteCgroupEntry();
  if (pid === undefined) return { child, leader: { pid: -1, starttime: -1 } };
  const st = readStat(pid);
  return { child, leader: { pid, starttime: st?.starttime ?? -1 } };
}

/**
 * The stdio posix_spawn is used for: /dev/null, a new pipe, or corral's own fd on each of 0-2, nothing
 * more (a stream or an fd 3 keeps Node's spawn); so does every job when the bindings cannot load or
 * CORRAL_NODE_SPAWN=1, and a job that shares corral's terminal (not detached: the caller decides).
 */
function nativeStdio(stdio: StdioOptions): [NativeStdio, NativeStdio, NativeStdio] | null {
  if (!nativeSpawnLib()) return null;
  const three = typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
  if (three.length !== 3 || !three.every((s) => s === 'ignore' || s === 'pipe' || s === 'inherit')) return null;
  return three as [NativeStdio, NativeStdio, NativeStdio];
}

/** The posix_spawn bindings, or null for Node's spawn: CORRAL_NODE_SPAWN=1, or bindings that cannot load. */
export function nativeSpawnLib(): ReturnType<typeof loadSpawnLib> {
  return process.env[NODE_SPAWN_VAR] === '1' || !loadLibc() ? null : loadSpawnLib();
}

/**
 * Starts the attempt through posix_spawn (src/os/posix-spawn.ts), with the same session, environment,
 * directory and stdio as Node's spawn would give it. Returns null to leave the start to Node's spawn: a
 * file without '#!' that exec refuses (ENOEXEC, which Node's execvp runs with /bin/sh), or bindings that
 * failed. The file is searched in the job's PATH as execvp does.
 */
async function spawnNative(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string | undefined, stdio: [NativeStdio, NativeStdio, NativeStdio]): Promise<NativeChild | null> {
  const path = file.includes('/') ? file : searchPath(file, env.PATH ?? '/usr/bin:/bin', cwd);
  let result;
  try {
    result = typeof path === 'number' ? { errno: path } : await posixSpawn(nativeSpawnLib()!, { file: path, argv: [file, ...args], env: envStrings(env), cwd, stdio });
  } catch {
    return null;
  }
  if ('errno' in result) {
    if (result.errno === 8) return null;
    const child = new NativeChild(file, undefined, []);
    failNativeChild(child, result.errno, ERRNO_NAMES[result.errno] ?? `errno ${result.errno}`);
    return child;
  }
  const child = new NativeChild(file, result.pid, result.fds);
  watchNativeChild(child);
  return child;
}

/**
 * execvp's search: the first PATH entry holding an executable regular file (an empty or relative entry is
 * taken in the job's directory, where the exec happens); else EACCES when a file was found that may not be run, ENOENT when none was.
 */
function searchPath(file: string, pathVar: string, cwd: string | undefined): string | number {
  let errno = 2;
  for (const dir of pathVar.split(':')) {
    const candidate = resolve(cwd ?? process.cwd(), dir === '' ? '.' : dir, file); // a relative entry is the job's directory's
    try {
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      errno = 13;
    }
  }
  return errno;
}
