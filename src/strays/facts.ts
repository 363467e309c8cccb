import { realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import type { ProcInfo, Snapshot } from '../proc/snapshot.ts';
import { userName } from '../supervise/leftovers.ts';
import type { ParentFacts } from './types.ts';

/** uid → user name, reading the password database once per scan rather than once per process. */
export function userResolver(): (uid: number) => string {
  const names = new Map<number, string>();
  return (uid) => {
    if (uid < 0) return '?';
    let n = names.get(uid);
    if (n === undefined) names.set(uid, (n = userName(uid)));
    return n;
  };
}

export function commandOf(p: Pick<ProcInfo, 'cmdline' | 'comm'>): string {
  const argv = trimArgv(p.cmdline);
  return argv.length ? argv.join(' ') : `[${p.comm}]`;
}

/** setproctitle pads the argv area with NULs: trailing empty strings are not arguments. */
export function trimArgv(argv: string[]): string[] {
  let end = argv.length;
  while (end > 0 && argv[end - 1] === '') end--;
  return end === argv.length ? argv : argv.slice(0, end);
}

/** python3.12 and python3 are the same program; so are -bash (a login shell) and bash. */
function programName(name: string): string {
  return name.replace(/^-/, '').replace(/[\d.]+$/, '').replace(/[-_]$/, '');
}

const SEARCH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const realCache = new Map<string, string | null>();

function realpathOrNull(path: string): string | null {
  if (!realCache.has(path)) {
    let real: string | null = null;
    try {
      real = realpathSync(path);
    } catch {
      /* missing, or not ours to read */
    }
    realCache.set(path, real);
  }
  return realCache.get(path)!;
}

/** Whether argv[0] names the executable through a path or a symlink (sh → dash, python3 → python3.12). */
function resolvesTo(argv0: string, exe: string, pid: number): boolean {
  if (argv0.includes('/')) return realpathOrNull(isAbsolute(argv0) ? argv0 : join(`/proc/${pid}/cwd`, argv0)) === exe;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  return dirs.some((d) => realpathOrNull(join(d, argv0)) === exe);
}

/**
 * A process that renamed itself: argv[0] names neither its executable nor a link to it. setproctitle
 * (the incident's `python restarts_count 0`) writes the whole title, spaces included, into argv[0].
 */
export function detectRewritten(p: Pick<ProcInfo, 'pid' | 'cmdline' | 'exe'>): { argv0: string; exe: string } | undefined {
  const argv = trimArgv(p.cmdline);
  if (!p.exe || !argv.length) return undefined;
  const exe = p.exe.replace(/ \(deleted\)$/, '');
  const argv0 = argv[0]!;
  if (argv0.includes(' ') && realpathOrNull(argv0) === null) return { argv0, exe };
  if (programName(basename(argv0)) === programName(basename(exe))) return undefined;
  if (resolvesTo(argv0, exe, p.pid)) return undefined;
  return { argv0, exe };
}

/**
 * Re-parented away from the process that started it: to init, or to a subreaper such as `systemd --user`
 * (which runs as a process called systemd that is not pid 1).
 */
export function adoptedBy(p: ProcInfo, snap: Snapshot): 'init' | 'subreaper' | undefined {
  if (p.pid <= 2 || p.kernelThread) return undefined;
  if (p.ppid === 1) return 'init';
  const parent = snap.get(p.ppid);
  if (parent && parent.pid !== 1 && parent.comm === 'systemd') return 'subreaper';
  return undefined;
}

export function parentFacts(p: ProcInfo, snap: Snapshot, userOf: (uid: number) => string): ParentFacts | undefined {
  const parent = snap.get(p.ppid);
  if (!parent) return undefined;
  return { pid: parent.pid, uid: parent.uid, comm: parent.comm, command: commandOf(parent), state: parent.state, user: userOf(parent.uid) };
}
