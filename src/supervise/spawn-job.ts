import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { CGROUP_ENTER_SCRIPT } from '../os/cgroup.ts';
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

export interface Spawned {
  child: ChildProcess;
  leader: Identity;
}

/**
 * Starts one attempt under every containment mechanism at once: its own session and process group
 * (detached: setsid; not for a job that shares corral's terminal, see above), the run and job markers in its environment, and, where cgroups are writable, a
 * tiny sh that writes its own pid into the job's cgroup.procs and then execs the command, so nothing
 * the job runs starts outside the cgroup.
 */
export function spawnJob(spec: SpawnSpec): Spawned {
  const env: NodeJS.ProcessEnv = { ...(spec.env ?? process.env), [RUN_ID_VAR]: spec.runId, [JOB_ID_VAR]: spec.jobId };
  let file = spec.argv[0]!;
  let args = spec.argv.slice(1);
  if (spec.cgroup) {
    env.CORRAL_CGROUP_PROCS = join(spec.cgroup, 'cgroup.procs');
    args = ['-c', CGROUP_ENTER_SCRIPT, 'corral-enter', file, ...args];
    file = '/bin/sh';
  }
  const child = spawn(file, args, { env, cwd: spec.cwd, detached: !terminalJobs.has(spec.jobId), stdio: spec.stdio ?? 'inherit' });
  // spawn() failures (ENOENT, EACCES) arrive as an 'error' event with no pid.
  const pid = child.pid;
  if (pid === undefined) return { child, leader: { pid: -1, starttime: -1 } };
  const st = readStat(pid);
  return { child, leader: { pid, starttime: st?.starttime ?? -1 } };
}
