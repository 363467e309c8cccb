import type { LedgerView } from './ledger-view.ts';
import type { Stray } from './types.ts';

export type CauseId =
  | 'supervisor-lost'
  | 'survived-teardown'
  | 'escaped-group'
  | 'other-user'
  | 'needs-sigcont'
  | 'no-max-runtime'
  | 'restart-loop'
  | 'parent-exited'
  | 'zombie-parent'
  | 'kernel-wait'
  | 'gpu-unowned'
  | 'idle-gpu'
  | 'renamed'
  | 'escaped-tmux';

/** One likely cause, with its evidence as plain values; each language renders its own sentence. */
export interface Cause {
  id: CauseId;
  data: Record<string, string | number | boolean | null>;
}

interface JobConfig {
  name?: string;
  maxRuntimeMs?: number;
  restart?: { mode?: string };
}

/** The job's restart settings from the run's recorded config (main, sidecars, or a pool's task template). */
function jobConfig(config: string | null, jobName: string): JobConfig | undefined {
  if (!config) return undefined;
  let c: { main?: JobConfig; sidecars?: JobConfig[]; task?: JobConfig };
  try {
    c = JSON.parse(config);
  } catch {
    return undefined;
  }
  if (jobName === 'main') return c.main;
  return c.sidecars?.find((s) => s.name === jobName) ?? c.task;
}

const LOOP = /\bwhile\s+(true|:|\[\s*1\s*\])|\buntil\s+false\b|\bfor\s*\(\(\s*;\s*;\s*\)\)/;

/** The causes the evidence supports, most telling first. Nothing here is guessed without a fact behind it. */
export function likelyCauses(s: Stray, ledger: LedgerView, currentUid = process.getuid?.() ?? -1): Cause[] {
  const out: Cause[] = [];
  const att = s.attribution;
  const run = att.run;
  const has = (r: string) => s.reasons.some((x) => x.reason === r);
  if (run) {
    const gone = !run.supervisorAlive && !run.sentinelAlive;
    if (run.stopReason === 'supervisor-lost' || run.status === 'lost' || (run.status === 'running' && gone)) {
      out.push({ id: 'supervisor-lost', data: { runId: run.id, status: run.status, sentinelRan: run.status === 'lost' } });
    } else if (has('run-ended')) {
      out.push({ id: 'survived-teardown', data: { runId: run.id, status: run.status, stopReason: run.stopReason } });
    }
    const attempt = att.jobId ? ledger.attempts(run.id).filter((a) => a.job_id === att.jobId).pop() : undefined;
    if (attempt?.pgid && attempt.sid && s.pgid !== attempt.pgid && s.sid !== attempt.sid) {
      out.push({ id: 'escaped-group', data: { pgid: s.pgid, sid: s.sid, leaderPgid: attempt.pgid, leaderSid: attempt.sid, leaderPid: attempt.pid } });
    }
    const jobName = att.jobId?.startsWith(run.id + '.') ? att.jobId.slice(run.id.length + 1) : undefined;
    const cfg = jobName ? jobConfig(ledger.run(run.id)?.config ?? null, jobName) : undefined;
    if (cfg?.restart?.mode && cfg.restart.mode !== 'no' && !cfg.maxRuntimeMs) {
      out.push({ id: 'no-max-runtime', data: { job: jobName ?? null, restart: cfg.restart.mode } });
    }
  }
  // Whoever cleans up is the person behind it: the sudo user, else the run's user, else whoever asks.
  const cleanerUid = s.sudo?.uid ?? run?.uid ?? currentUid;
  if (cleanerUid !== 0 && cleanerUid >= 0 && s.uid !== cleanerUid) {
    out.push({ id: 'other-user', data: { owner: s.user, cleaner: s.sudo?.user ?? run?.user ?? String(cleanerUid), viaSudo: Boolean(s.sudo) } });
  }
  if (s.parent && LOOP.test(s.parent.command)) out.push({ id: 'restart-loop', data: { parentPid: s.parent.pid, parentCommand: s.parent.command } });
  if (s.state === 'T' || s.state === 't') out.push({ id: 'needs-sigcont', data: { pid: s.pid } });
  if (s.orphaned && !run && s.state !== 'Z') out.push({ id: 'parent-exited', data: { adoptedBy: s.adoptedBy ?? null, ppid: s.ppid } });
  if (s.state === 'Z') out.push({ id: 'zombie-parent', data: { parentPid: s.ppid, parentComm: s.parent?.comm ?? null, parentIsInit: s.ppid === 1 } });
  if (s.state === 'D') out.push({ id: 'kernel-wait', data: { wchan: s.wchan ?? '?' } });
  if (has('gpu-holder')) out.push({ id: 'gpu-unowned', data: { bytes: s.gpuBytes, memoryKnown: s.gpu.some((g) => g.usedBytes !== null) } });
  if (has('idle-gpu-holder')) out.push({ id: 'idle-gpu', data: { bytes: s.gpuBytes } });
  const tmux = s.reasons.find((r) => r.reason === 'escaped-tmux');
  if (tmux) out.push({ id: 'escaped-tmux', data: { runId: tmux.data.runId ?? null, tmuxServerPid: tmux.data.tmuxServerPid ?? null, cwd: tmux.data.cwd ?? null } });
  if (s.rewritten) out.push({ id: 'renamed', data: { argv0: s.rewritten.argv0, exe: s.rewritten.exe } });
  return out;
}
