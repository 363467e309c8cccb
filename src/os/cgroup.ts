import { close, constants as fsConstants, existsSync, mkdir, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, write, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { RUN_ID_SOURCE } from '../ledger/ids.ts';
import { parseCgroupV2 } from '../proc/snapshot.ts';
import { monotonicMs } from '../proc/clock.ts';

/** Where the cgroup2 hierarchy is mounted, parsed from /proc/self/mountinfo. */
export function findCgroup2Mount(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string | null {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup2') continue;
    const fields = line.slice(0, sep).split(' ');
    // field 4 is the root of the mount within the hierarchy, field 5 the mount point
    if (fields[3] !== '/') continue;
    return fields[4]!.replace(/\\040/g, ' ');
  }
  return null;
}

export type Containment =
  | { kind: 'cgroup'; mount: string; runDir: string }
  | { kind: 'none'; reason: string };

/**
 * Decides whether this run can use cgroups and creates the run's own cgroup when it can, with the
 * cgroups of the jobs known from the start (`jobs`, their names below it): made now, a job's own mkdir
 * finds its cgroup there and does not wait for the kernel's cgroup lock, which warmCgroupMigration holds
 * for a grace period right after. One that cannot be made here is made by its job, as any other.
 */
export function setUpRunCgroup(runId: string, env = process.env, jobs: string[] = []): Containment {
  if (env.CORRAL_CGROUP === 'off') return { kind: 'none', reason: 'CORRAL_CGROUP=off' };
  const mount = findCgroup2Mount();
  if (!mount) return { kind: 'none', reason: 'no cgroup2 hierarchy is mounted' };
  let own: string | undefined;
  try {
    own = parseCgroupV2(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    /* handled below */
  }
  if (own === undefined) return { kind: 'none', reason: 'this process has no cgroup2 membership' };
  const runDir = join(mount, own, `corral-${runId}`);
  try {
    mkdirSync(runDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { kind: 'none', reason: `cannot create ${runDir} (${code}): the cgroup2 tree is not writable by this user` };
  }
  if (!existsSync(join(runDir, 'cgroup.procs'))) {
    safeRmdir(runDir);
    return { kind: 'none', reason: `${runDir} has no cgroup.procs` };
  }
  for (const job of jobs) {
    try {
      mkdirSync(jobCgroupPath(runDir, job));
    } catch {
      /* its job makes it (createJobCgroup), and says why when it cannot */
    }
  }
  return { kind: 'cgroup', mount, runDir };
}

/** how long after a process enters a cgroup (or a warm-up is sent) the kernel's part stays quick, at least */
const WARM_FOR_MS = 5;
let lastEntry = -Infinity;

/** A job's process was just sent into its cgroup: the kernel's migration path is warm for a moment. */
export function noteCgroupEntry(): void {
  lastEntry = monotonicMs();
}

/**
 * Gets the kernel's slow part of a cgroup migration over with on a worker thread while corral still sets
 * the run or the job up, so the job's own entry into its cgroup (CGROUP_ENTER_SCRIPT) is quick. The first
 * write to a cgroup.procs after an idle moment waits for an RCU grace period (the write side of the
 * kernel's cgroup_threadgroup_rwsem: 5-30 ms measured here); one within about a grace period of the last
 * takes 0.1-0.3 ms, and extends that window. The write here moves the supervisor into the cgroup it is
 * already in (the run cgroup's parent, read from /proc/self/cgroup when the run began): the kernel takes
 * the same lock and moves nothing. It is skipped within WARM_FOR_MS of the last entry or warm-up (a pool
 * whose tasks start back to back keeps the path warm by itself). Any failure (no permission, a cgroup
 * with controllers enabled) is ignored: the job's entry then pays the wait itself, as without this. The
 * file is opened here (quick: opening takes no lock) and written by one call on libuv's pool, so the write
 * starts at once even while the main thread stays busy. True when the write was sent.
 */
export function warmCgroupMigration(runDir: string, quietForMs = WARM_FOR_MS): boolean {
  const now = monotonicMs();
  if (now - lastEntry < quietForMs) return false;
  lastEntry = now;
  let fd: number;
  try {
    fd = openSync(join(dirname(runDir), 'cgroup.procs'), fsConstants.O_WRONLY);
  } catch {
    return false;
  }
  write(fd, String(process.pid), () => close(fd, () => {}));
  return true;
}

export function jobCgroupPath(runDir: string, jobId: string): string {
  return join(runDir, jobId);
}

const mkdirAsync = promisify(mkdir);

export async function createJobCgroup(runDir: string, jobId: string): Promise<string> {
  const dir = jobCgroupPath(runDir, jobId);
  // off the main thread: mkdir waits on the kernel's cgroup lock while other jobs' processes enter theirs
  // (node:fs's callback form: node:fs/promises would load a dozen modules more into every corral start)
  await mkdirAsync(dir, { recursive: true });
  return dir;
}

/** Pids in a cgroup and all cgroups below it. A vanished cgroup has none. */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let text: string;
    try {
      text = readFileSync(join(d, 'cgroup.procs'), 'latin1');
    } catch {
      return;
    }
    for (const line of text.split('\n')) if (line) out.push(Number(line));
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(dir);
  return out;
}

/** True while any process is in the cgroup or below (cgroup.events "populated 1"). */
export function isPopulated(dir: string): boolean {
  try {
    return /populated 1/.test(readFileSync(join(dir, 'cgroup.events'), 'latin1'));
  } catch {
    return false;
  }
}

/** SIGKILLs everything in the cgroup at once (Linux >= 5.14). False where cgroup.kill is missing. */
export function killCgroup(dir: string): boolean {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
    return true;
  } catch {
    return false;
  }
}

function safeRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Removes a cgroup and the (empty) cgroups below it, deepest first. */
export function removeCgroup(dir: string): boolean {
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return !existsSync(dir);
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  return safeRmdir(dir);
}

const RUN_CGROUP = new RegExp(`^corral-(${RUN_ID_SOURCE})$`);

/**
 * Removes the empty run cgroups that crashed runs left beside a new run's own (`parent` is the cgroup
 * corral creates runs in). Only directories named corral-<runid>, only when cgroup.events says
 * `populated 0`, only when `isLive(runId)` says the run is over; rmdir only (deepest first), never a
 * kill, so a cgroup that gains a process meanwhile just stays (rmdir fails with EBUSY). At most `limit`
 * directories are looked at, so a run's start stays quick whatever was left behind. Returns the removed.
 */
export function sweepStaleRunCgroups(parent: string, isLive: (runId: string) => boolean, limit = 64): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => RUN_CGROUP.test(n)).slice(0, limit)) {
    const dir = join(parent, name);
    let events: string;
    try {
      events = readFileSync(join(dir, 'cgroup.events'), 'latin1');
    } catch {
      continue;
    }
    if (!/^populated 0$/m.test(events) || isLive(name.slice('corral-'.length))) continue;
    if (removeCgroup(dir)) removed.push(dir);
  }
  return removed;
}

/** The shell line that moves the shell into a cgroup and then execs the job: nothing of the job runs outside it. */
export const CGROUP_ENTER_SCRIPT =
  'echo $$ > "$CORRAL_CGROUP_PROCS" || exit 125; unset CORRAL_CGROUP_PROCS; ' +
  'command -v "$1" >/dev/null 2>&1 || { echo "corral: cannot start job: $1: command not found" >&2; exit 127; }; exec "$@"';
