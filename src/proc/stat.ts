import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';

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

/** Fields of /proc/PID/stat that ProcStat holds (1-based, as proc(5) numbers them). */
const USED_FIELDS: boolean[] = [];
for (const n of [4, 5, 6, 7, 14, 15, 20, 22, 24]) USED_FIELDS[n] = true;

/** Parses one /proc/PID/stat line. comm may hold spaces and parentheses, so split at the last ')'. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // the fields used, found by walking the spaces: split() of the whole line made ~50 strings per process and scan
  const f: number[] = [];
  let at = close + 2;
  let state = '';
  for (let n = 3; n <= 24; n++) {
    const end = text.indexOf(' ', at);
    if (n === 3) state = text.slice(at, end < 0 ? undefined : end);
    else if (USED_FIELDS[n]) f[n] = Number(text.slice(at, end < 0 ? undefined : end));
    if (end < 0) break;
    at = end + 1;
  }
  const num = (n: number) => f[n] ?? NaN;
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state,
    ppid: num(4),
    pgid: num(5),
    sid: num(6),
    ttyNr: num(7),
    cpuTicks: num(14) + num(15),
    threads: num(20),
    starttime: num(22),
    rssPages: num(24),
  };
}

const chunk = Buffer.allocUnsafe(16384);

/**
 * Reads a /proc file into one reused buffer: readFileSync's fstat, growing buffers and concat cost
 * twice as much, and teardowns read every process's stat several times per job. Reads until
 * end-of-file, so a large environ or cmdline is never cut short. Null when it cannot be read.
 * The bytes are valid until the next read (a view of the shared buffer unless the file was larger).
 * Only for /proc files (see the short-read rule below).
 */
export function readProcBytes(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return null;
  }
  try {
    let n = readSync(fd, chunk, 0, chunk.length, null);
    // The /proc files read here fill a read until their end (seq_file for stat and cgroup; a loop over
    // the process's pages for cmdline and environ): a short read is the end, and a second read(2)
    // would only return 0. A file larger than the buffer fills it and is read on as before.
    if (n < chunk.length) return chunk.subarray(0, n);
    const parts = [Buffer.from(chunk)];
    while ((n = readSync(fd, chunk, 0, chunk.length, null)) > 0) parts.push(Buffer.from(chunk.subarray(0, n)));
    return Buffer.concat(parts);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** readProcBytes as text (latin1: every byte one character, whatever the process wrote). */
export function readProcText(path: string): string | null {
  const bytes = readProcBytes(path);
  return bytes === null ? null : bytes.toString('latin1');
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
