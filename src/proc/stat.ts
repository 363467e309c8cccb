import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

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

const chunk = Buffer.allocUnsafe(16384);

/**
 * Reads a /proc file into one reused buffer: readFileSync's fstat, growing buffers and concat cost
 * twice as much, and teardowns read every process's stat several times per job. Reads until
 * end-of-file, so a large environ or cmdline is never cut short. Null when it cannot be read.
 * Only for /proc files (see the short-read rule below).
 */
export function readProcText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    let n = readSync(fd, chunk, 0, chunk.length, null);
    let text = chunk.toString('latin1', 0, n);
    // The /proc files read here fill a read until their end (seq_file for stat and cgroup; a loop over
    // the process's pages for cmdline and environ): a short read is the end, and a second read(2)
    // would only return 0. A file larger than the buffer fills it and is read on as before.
    if (n < chunk.length) return text;
    while (n > 0 && (n = readSync(fd, chunk, 0, chunk.length, null)) > 0) text += chunk.toString('latin1', 0, n);
    return text;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function readStat(pid: number): ProcStat | null {
  const text = readProcText(`/proc/${pid}/stat`);
  return text ? parseStat(text) : null;
}

/** The kernel function a sleeping process waits in ("0" when running), or "?" when unreadable. */
export function readWchan(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'latin1') || '0';
  } catch {
    return '?';
  }
}
