import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GpuView } from '../gpu/types.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { bootTimeMs, CLOCK_TICKS, monotonicMs, pageSize, startedAtMs, uptimeMs } from '../proc/clock.ts';
import { readlinkSync } from 'node:fs';
import type { EnvCache } from '../proc/env-cache.ts';
import { fillProc, takeSnapshot, type ProcInfo, type Snapshot } from '../proc/snapshot.ts';
import { readStat, readWchan } from '../proc/stat.ts';
import { protectedPids } from '../supervise/members.ts';
import { initServiceSession, loadAllowList, type AllowContext, type AllowList } from './allow-list.ts';
import { Attributor } from './attribution.ts';
import { commandOf, detectRewritten, parentFacts, trimArgv, userResolver } from './facts.ts';
import { gpuUseByPid, readGpuView } from './gpu-view.ts';
import { ledgerViewOf, type LedgerView } from './ledger-view.ts';
import { classifyProcess, knownBytes, overallSeverity, type Classification, type RuleContext } from './rules.ts';
import type { Stray } from './types.ts';

export interface ScanOptions {
  /** sample CPU use of GPU holders over this long (finds idle-gpu-holder) */
  sampleMs?: number;
  allowList?: AllowList;
  ledger?: LedgerView;
  gpu?: GpuView;
  /** a recorded snapshot instead of /proc (tests) */
  snapshot?: Snapshot;
  wchanOf?: (pid: number) => string;
  now?: number;
  /** pids never reported (default: corral itself and its ancestors) */
  protect?: Set<number>;
  /** environment facts kept from the last scan (the guard: see proc/env-cache.ts) */
  envCache?: EnvCache;
  /**
   * Judge only processes of the uids this accepts (the guard: the users its policy covers). The others
   * are read in part (stat and owner), except the ancestors of judged ones, which the rules look at
   * (attribution, tmux windows, the parent's command); they are never reported or allow-list matched.
   */
  judgeUid?: (uid: number) => boolean;
}

export interface StrayScan {
  host: string;
  scannedAt: number;
  scanMs: number;
  processCount: number;
  strays: Stray[];
  gpu: GpuView;
  sampleMs?: number;
  allowListSource?: string;
  /** the snapshot the scan judged, for reap's plan (not serialised) */
  snapshot: Snapshot;
  /** allow-list matches of every process, strays or not (reap skips them unless named by pid) */
  allowListed: Map<number, string>;
  /** the ledger view used, for report timelines */
  ledger: LedgerView;
  userOf: (uid: number) => string;
}

async function sampleCpu(snap: Snapshot, pids: Iterable<number>, ms: number): Promise<Map<number, number>> {
  await sleep(ms);
  const delta = new Map<number, number>();
  for (const pid of pids) {
    const before = snap.get(pid);
    const now = readStat(pid);
    if (before && now && now.starttime === before.starttime) delta.set(pid, now.cpuTicks - before.cpuTicks);
  }
  return delta;
}

/** One pass over the machine: a snapshot of /proc, the GPU view and the ledger, every rule on every process. */
export async function scanStrays(opts: ScanOptions = {}): Promise<StrayScan> {
  const started = monotonicMs();
  // the executable is read only for strays (buildStray): most processes never need it
  const judge = opts.judgeUid;
  const snap = opts.snapshot ?? takeSnapshot({ envCache: opts.envCache, fullFor: judge && ((p) => judge(p.uid)) });
  if (judge) fillAncestors(snap);
  const gpu = opts.gpu ?? (await readGpuView());
  const gpuByPid = gpuUseByPid(gpu);
  const ledger = opts.ledger ?? ledgerViewOf(openLedgerToRead());
  const allow = opts.allowList ?? loadAllowList();
  const userOf = userResolver();
  const bootTicks = Math.floor((allow.bootGraceMs * CLOCK_TICKS) / 1000);
  const allowCtx: AllowContext = { initSid: initServiceSession(snap), bootDaemonTicks: bootTicks, userOf };
  const cpuDelta = opts.sampleMs ? await sampleCpu(snap, gpuByPid.keys(), opts.sampleMs) : undefined;
  const ctx: RuleContext = {
    snap, attributor: new Attributor(snap, ledger), allow, allowCtx, gpuByPid, cpuDelta, sampleMs: opts.sampleMs,
    wchanOf: opts.wchanOf ?? readWchan,
  };
  const protect = opts.protect ?? protectedPids(snap);
  const now = opts.now ?? Date.now();
  // ages are boot-relative: a stepped wall clock changes no stray's age
  const upMs = uptimeMs();
  const strays: Stray[] = [];
  const allowListed = new Map<number, string>();
  for (const p of snap.values()) {
    if (p.kernelThread || protect.has(p.pid) || (judge && !judge(p.uid))) continue;
    const c = classifyProcess(p, ctx);
    if (c.allowListed) allowListed.set(p.pid, c.allowListed);
    if (c.reasons.length) strays.push(buildStray(p, c, ctx, userOf, upMs));
  }
  strays.sort((a, b) => b.gpuBytes - a.gpuBytes || a.startedAt - b.startedAt || a.pid - b.pid);
  return {
    host: hostname(), scannedAt: now, scanMs: monotonicMs() - started, processCount: snap.size, strays, gpu,
    sampleMs: opts.sampleMs, allowListSource: allow.source, snapshot: snap, allowListed, ledger, userOf,
  };
}

/** Reads in full every ancestor (to pid 1) of the processes read in full: the rules walk them. */
function fillAncestors(snap: Snapshot): void {
  const done = new Set<number>();
  for (const p of snap.values()) {
    if (p.partial) continue;
    for (let cur = snap.get(p.ppid); cur && !done.has(cur.pid); cur = snap.get(cur.ppid)) {
      done.add(cur.pid);
      fillProc(cur);
    }
  }
}

function buildStray(p: ProcInfo, c: Classification, ctx: RuleContext, userOf: (uid: number) => string, upMs: number): Stray {
  const gpu = ctx.gpuByPid.get(p.pid) ?? [];
  const gpuBytes = knownBytes(gpu);
  const startedAt = startedAtMs(p.starttime);
  const attribution = c.attribution;
  if (!attribution.runId) attribution.activeAtStart = ctx.attributor.activeAtStart(p);
  const s: Stray = {
    pid: p.pid, starttime: p.starttime, ppid: p.ppid, pgid: p.pgid, sid: p.sid, uid: p.uid, user: userOf(p.uid), state: p.state,
    comm: p.comm, argv: trimArgv(p.cmdline), command: commandOf(p), startedAt, runtimeMs: Math.max(0, upMs - (p.starttime * 1000) / CLOCK_TICKS),
    cpuTicks: p.cpuTicks, rssBytes: p.rssPages * pageSize(), orphaned: c.adopted !== undefined, gpu, gpuBytes,
    reasons: c.reasons, severity: overallSeverity(c.reasons, gpuBytes), attribution,
  };
  if (p.exe === undefined && p.cmdline.length) p.exe = readExe(p.pid);
  if (p.exe) s.exe = p.exe;
  if (p.cgroup) s.cgroup = p.cgroup;
  if (c.adopted) s.adoptedBy = c.adopted;
  const parent = parentFacts(p, ctx.snap, userOf);
  if (parent) s.parent = parent;
  if (p.env?.sudoUser !== undefined || p.env?.sudoUid !== undefined) s.sudo = { user: p.env.sudoUser, uid: p.env.sudoUid };
  const rewritten = detectRewritten(p);
  if (rewritten) s.rewritten = rewritten;
  if (c.wchan) s.wchan = c.wchan;
  if (c.allowListed) s.allowListed = c.allowListed;
  return s;
}

function readExe(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined; // another user's process without root, or gone
  }
}

/** What --json prints: the scan without its in-memory parts. */
export function scanToJson(scan: StrayScan): object {
  return {
    host: scan.host, scannedAt: new Date(scan.scannedAt).toISOString(), scanMs: Math.round(scan.scanMs), processes: scan.processCount,
    bootTime: new Date(bootTimeMs()).toISOString(), sampleMs: scan.sampleMs ?? null, allowList: scan.allowListSource ?? null,
    gpu: { devices: scan.gpu.devices, probes: scan.gpu.probes }, strays: scan.strays,
  };
}
