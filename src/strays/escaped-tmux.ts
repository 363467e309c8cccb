import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { ProcInfo, Snapshot } from '../proc/snapshot.ts';
import type { RunFacts } from './types.ts';

/**
 * The escape no containment mechanism sees: a job started inside the user's tmux ($TMUX set) runs
 * `tmux new-window CMD`, and the user's own tmux server forks CMD. That process is outside the run's
 * cgroup, session and process tree, and carries none of its markers. What is left to go by is the
 * timeline: a window of the user's tmux server that started while a run of the same user was active,
 * in that run's working directory. It is a candidate, and the evidence is shown with it.
 */

/** The tmux server retitles itself 'tmux: server'; a server started under another name still runs tmux. */
export function isTmuxServer(p: ProcInfo): boolean {
  if (p.comm === 'tmux: server') return true;
  // comm first: it is asked of every ancestor of every process, and basename is the dear part
  const argv0 = p.cmdline[0];
  return p.comm.startsWith('tmux') && argv0 !== undefined && basename(argv0) === 'tmux';
}

/** The window (a direct child of a tmux server) that the process is, or descends from. */
export function tmuxWindowOf(p: ProcInfo, snap: Snapshot): { window: ProcInfo; server: ProcInfo } | undefined {
  const seen = new Set<number>();
  for (let cur: ProcInfo | undefined = p; cur && cur.pid > 1 && !seen.has(cur.pid); cur = snap.get(cur.ppid)) {
    seen.add(cur.pid);
    const parent = snap.get(cur.ppid);
    if (parent && isTmuxServer(parent)) return { window: cur, server: parent };
  }
  return undefined;
}

export function readCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined; // gone, or another user's process without the right to look
  }
}

export interface TmuxEscape {
  runId: string;
  tmuxServerPid: number;
  windowPid: number;
  cwd: string;
  runStatus: string;
}

/**
 * The ended run a tmux window most likely escaped from: among the runs active when the window started
 * (`activeAt`, boot-relative ticks), one of the window's uid whose recorded cwd is the window's cwd and
 * which no longer owns its processes. The latest such run wins. An ordinary window (another directory, no
 * run active, or a run still live) is no candidate.
 */
export function findTmuxEscape(
  p: ProcInfo, snap: Snapshot, activeAt: (ticks: number) => RunFacts[], cwdOf: (pid: number) => string | undefined = readCwd,
): TmuxEscape | undefined {
  const found = tmuxWindowOf(p, snap);
  if (!found) return undefined;
  const { window, server } = found;
  const runs = activeAt(window.starttime).filter((r) => r.uid === window.uid && r.cwd);
  if (!runs.length) return undefined;
  const cwd = cwdOf(window.pid);
  if (!cwd) return undefined;
  const match = runs.filter((r) => r.cwd === cwd && !r.live).sort((a, b) => b.startedAt - a.startedAt)[0];
  if (!match) return undefined;
  return { runId: match.id, tmuxServerPid: server.pid, windowPid: window.pid, cwd, runStatus: match.status };
}
