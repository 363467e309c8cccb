import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { parseStat, readProcText, type ProcStat } from './stat.ts';
import type { EnvCache } from './env-cache.ts';
import { readEnvFacts, type EnvFacts } from './markers.ts';

/** One process as a snapshot saw it. */
export interface ProcInfo extends ProcStat {
  /** owner (effective uid, from the owner of /proc/PID) */
  uid: number;
  cmdline: string[];
  /** target of /proc/PID/exe, when readable */
  exe?: string;
  /** the cgroup v2 path ("0::" line), when present */
  cgroup?: string;
  env?: EnvFacts;
  /** kernel threads have no cmdline and are children of kthreadd (pid 2) */
  kernelThread: boolean;
  /** only stat and the owner were read (SnapshotOptions.fullFor refused it): fillProc reads the rest */
  partial?: boolean;
}

export interface SnapshotOptions {
  /** read environ for marker variables; only for pids this predicate accepts (default: all) */
  environ?: boolean | ((st: ProcStat) => boolean);
  cmdline?: boolean;
  exe?: boolean;
  cgroup?: boolean;
  /** environment facts kept across snapshots (see env-cache.ts for what that relies on) */
  envCache?: EnvCache;
  /** read cmdline, exe, cgroup and environ only for processes this accepts; the rest are `partial` */
  fullFor?: (p: ProcStat & { uid: number }) => boolean;
  /** skip processes this predicate rejects after reading stat (cheap pre-filter) */
  filter?: (st: ProcStat) => boolean;
}

export type Snapshot = Map<number, ProcInfo>;

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

export function readCmdline(pid: number): string[] {
  const raw = readProcText(`/proc/${pid}/cmdline`);
  if (!raw) return [];
  const parts = raw.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The path of the first "0::" line; found with indexOf, as split('\n') made a string of every line. */
export function parseCgroupV2(text: string): string | undefined {
  const at = text.startsWith('0::') ? 0 : text.indexOf('\n0::') + 1;
  if (at === 0 && !text.startsWith('0::')) return undefined;
  const end = text.indexOf('\n', at);
  return text.slice(at + 3, end < 0 ? undefined : end);
}

/** Reads one process; null when it vanished while being read. */
export function readProc(pid: number, opts: SnapshotOptions = {}): ProcInfo | null {
  const statText = readProcText(`/proc/${pid}/stat`);
  if (!statText) return null;
  const st = parseStat(statText);
  if (!st) return null;
  if (opts.filter && !opts.filter(st)) return null;
  let uid = -1;
  try {
    uid = statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
  const info: ProcInfo = { ...st, uid, cmdline: [], kernelThread: st.ppid === 2 || pid === 2 };
  if (opts.fullFor && !opts.fullFor(info)) info.partial = true;
  else readRest(info, opts, statText);
  return info;
}

/** Reads what a partial snapshot left out of one process (as `opts` asks), e.g. for an ancestor of one that matters. */
export function fillProc(info: ProcInfo, opts: SnapshotOptions = {}): void {
  if (!info.partial) return;
  delete info.partial;
  readRest(info, opts);
}

function readRest(info: ProcInfo, opts: SnapshotOptions, statText?: string): void {
  const pid = info.pid;
  if (opts.cmdline !== false) info.cmdline = readCmdline(pid);
  if (opts.exe) {
    try {
      info.exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      /* kernel threads and other users' processes */
    }
  }
  if (opts.cgroup !== false) {
    const cg = readProcText(`/proc/${pid}/cgroup`);
    if (cg) info.cgroup = parseCgroupV2(cg);
  }
  const env = opts.environ ?? true;
  if (!info.kernelThread && (env === true || (typeof env === 'function' && env(info)))) {
    info.env = opts.envCache && statText ? opts.envCache.factsOf(pid, statText, info.starttime, info.uid) : readEnvFacts(pid);
  }
}

/** Reads every process in /proc. Processes that exit while being read are left out. */
export function takeSnapshot(opts: SnapshotOptions = {}): Snapshot {
  const snap: Snapshot = new Map();
  opts.envCache?.beginSnapshot();
  for (const pid of listPids()) {
    const info = readProc(pid, opts);
    if (info) snap.set(pid, info);
  }
  return snap;
}

/**
 * takeSnapshot in slices of `slice` processes, the event loop turning between them: a background scan
 * of thousands of processes then holds a signal handler back by one slice, not by the whole scan.
 * Null when abandoned() says so between slices.
 */
export async function takeSnapshotInSlices(opts: SnapshotOptions, abandoned: () => boolean, slice = 64): Promise<Snapshot | null> {
  const snap: Snapshot = new Map();
  opts.envCache?.beginSnapshot();
  const pids = listPids();
  for (let i = 0; i < pids.length; i++) {
    if (i && i % slice === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (abandoned()) return null;
    }
    const info = readProc(pids[i]!, opts);
    if (info) snap.set(pids[i]!, info);
  }
  return snap;
}
