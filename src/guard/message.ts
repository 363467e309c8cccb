import { formatDuration } from '../config/duration.ts';
import { reapCommand, reapTargetOf } from '../strays/commands.ts';
import { formatBytes } from '../strays/gpu-view.ts';
import { EN } from '../strays/text-en.ts';
import type { Stray } from '../strays/types.ts';

/** The facts a notification carries as fields (webhook JSON, the command hook's stdin). */
export interface StrayNotice {
  kind: 'corral-guard-stray';
  host: string;
  pid: number;
  starttime: number;
  user: string;
  uid: number;
  command: string;
  reasons: string[];
  severity: string;
  why: string[];
  runId: string | null;
  jobId: string | null;
  gpuBytes: number;
  gpuDevices: number[];
  runningMs: number;
  /** the command that removes it; null for a zombie of init */
  reapCommand: string | null;
  /** what the guard will do next under its policy, if anything */
  plan: string;
}

export function buildNotice(s: Stray, host: string, plan: string): StrayNotice {
  const target = reapTargetOf(s);
  return {
    kind: 'corral-guard-stray', host, pid: s.pid, starttime: s.starttime, user: s.user, uid: s.uid, command: s.command.slice(0, 500),
    reasons: s.reasons.map((r) => r.reason), severity: s.severity, why: s.reasons.map((r) => EN.explain(r)),
    runId: s.attribution.runId ?? null, jobId: s.attribution.jobId ?? null, gpuBytes: s.gpuBytes,
    gpuDevices: [...new Set(s.gpu.map((g) => g.device).filter((d) => d >= 0))], runningMs: Math.round(s.runtimeMs),
    reapCommand: target ? reapCommand(target.pids, target.uids, s.uid, '--yes') : null, plan,
  };
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069]/g;

/** The one-paragraph text: which process, which run, how much GPU memory, why, and the exact reap command. */
export function noticeText(n: StrayNotice): string {
  const run = n.runId ? `run ${n.runId}${n.jobId ? ` (job ${n.jobId})` : ''}` : 'no corral run';
  const gpu = n.gpuBytes > 0 ? `holds ${formatBytes(n.gpuBytes)} of GPU memory on GPU ${n.gpuDevices.join(',') || '?'}` : 'holds no known GPU memory';
  const lines = [
    `corral guard on ${n.host}: stray process ${n.pid} of ${n.user} (${n.severity}), running ${formatDuration(n.runningMs)}: ${n.command}`,
    `made by ${run}; ${gpu}`,
    `why: ${n.why.join('; ')}`,
    n.reapCommand ? `remove it: ${n.reapCommand}` : 'it goes when init collects it',
  ];
  if (n.plan) lines.push(n.plan);
  // a process names itself: nothing it chose may move a cursor or retitle a terminal
  return lines.join('\n').replace(CONTROLS, '?');
}
