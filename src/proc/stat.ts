import { readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat that corral uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  ttyNr: number;
  /** user + system CPU time, in clock ticks */
  cpuTicks: number;
  threads: number;
  /** field 22: start time after boot, in clock ticks; with pid it names one process for its whole life */
  starttime: number;
  /** resident set size, in pages */
  rssPages: number;
}

/** Parses one /proc/PID/stat line. comm may hold spaces and parentheses, so split at the last ')'. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3]
  const f = (n: number) => Number(rest[n - 3]);
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: f(4),
    pgid: f(5),
    sid: f(6),
    ttyNr: f(7),
    cpuTicks: f(14) + f(15),
    threads: f(20),
    starttime: f(22),
    rssPages: f(24),
  };
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** The kernel function a sleeping process waits in ("0" when running), or "?" when unreadable. */
export function readWchan(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'latin1') || '0';
  } catch {
    return '?';
  }
}
