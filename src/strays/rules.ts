import { isLiveState } from '../proc/identity.ts';
import type { ProcInfo, Snapshot } from '../proc/snapshot.ts';
import { matchAllowList, type AllowContext, type AllowList } from './allow-list.ts';
import type { Attributor } from './attribution.ts';
import { adoptedBy } from './facts.ts';
import { SEVERITY_RANK, type Attribution, type GpuUse, type ReasonHit, type Severity } from './types.ts';

export interface RuleContext {
  snap: Snapshot;
  attributor: Attributor;
  allow: AllowList;
  allowCtx: AllowContext;
  /** GPU use per pid, from the merged GPU view */
  gpuByPid: Map<number, GpuUse[]>;
  /** CPU ticks each GPU holder used over the sampling window; absent without --sample */
  cpuDelta?: Map<number, number>;
  sampleMs?: number;
  wchanOf: (pid: number) => string;
}

export interface Classification {
  reasons: ReasonHit[];
  attribution: Attribution;
  ownerAlive: boolean;
  adopted?: 'init' | 'subreaper';
  allowListed?: string;
  wchan?: string;
}

export function knownBytes(uses: GpuUse[] | undefined): number {
  return (uses ?? []).reduce((sum, u) => sum + (u.usedBytes ?? 0), 0);
}

function gpuDevices(uses: GpuUse[]): string {
  return [...new Set(uses.map((u) => (u.device >= 0 ? String(u.device) : u.deviceMinor !== undefined ? `minor ${u.deviceMinor}` : '?')))].join(',');
}

/** Every stray rule applied to one process. An empty `reasons` means it is not a stray. */
export function classifyProcess(p: ProcInfo, ctx: RuleContext): Classification {
  const attribution = ctx.attributor.attribute(p);
  const ownerAlive = ctx.attributor.ownerAlive(p, attribution);
  const reasons: ReasonHit[] = [];
  const hit = (reason: ReasonHit['reason'], severity: Severity, data: ReasonHit['data']) => reasons.push({ reason, severity, data });
  const allowListed = matchAllowList(p, ctx.allow, ctx.allowCtx);
  const adopted = adoptedBy(p, ctx.snap);
  const parent = ctx.snap.get(p.ppid);
  const out: Classification = { reasons, attribution, ownerAlive, adopted, allowListed };

  if (attribution.runId && !ownerAlive) {
    const run = attribution.run;
    hit('run-ended', 'warning', {
      runId: attribution.runId, jobId: attribution.jobId ?? null, via: attribution.via ?? null, known: Boolean(run),
      status: run?.status ?? null, stopReason: run?.stopReason ?? null,
      supervisorAlive: run?.supervisorAlive ?? false, sentinelAlive: run?.sentinelAlive ?? false,
    });
  }
  if (adopted && p.state !== 'Z' && !allowListed && !(attribution.runId && ownerAlive)) {
    hit('orphan', 'warning', { adoptedBy: adopted, ppid: p.ppid, parentComm: parent?.comm ?? null });
  }
  if (!attribution.runId && !allowListed && isLiveState(p.state)) {
    const esc = ctx.attributor.tmuxEscape(p);
    if (esc) hit('escaped-tmux', 'warning', { ...esc });
  }
  if (p.state === 'T' || p.state === 't') hit('stopped', 'warning', { state: p.state, traced: p.state === 't' });
  if (p.state === 'Z') hit('zombie', 'info', { parentPid: p.ppid, parentComm: parent?.comm ?? null, parentState: parent?.state ?? null });
  if (p.state === 'D') {
    out.wchan = ctx.wchanOf(p.pid);
    hit('unkillable', 'warning', { wchan: out.wchan });
  }
  const uses = ctx.gpuByPid.get(p.pid);
  if (uses?.length) {
    const bytes = knownBytes(uses);
    const severity: Severity = bytes > 0 ? 'critical' : 'warning';
    const devices = gpuDevices(uses);
    if (!ownerAlive) hit('gpu-holder', severity, { bytes, devices, memoryKnown: uses.some((u) => u.usedBytes !== null) });
    const used = ctx.cpuDelta?.get(p.pid);
    if (used === 0) hit('idle-gpu-holder', severity, { bytes, devices, sampleMs: ctx.sampleMs ?? 0 });
  }
  return out;
}

/** The stray's severity: its worst rule, and always critical while it holds GPU memory. */
export function overallSeverity(reasons: ReasonHit[], gpuBytes: number): Severity {
  if (gpuBytes > 0) return 'critical';
  let worst: Severity = 'info';
  for (const r of reasons) if (SEVERITY_RANK[r.severity] > SEVERITY_RANK[worst]) worst = r.severity;
  return worst;
}
