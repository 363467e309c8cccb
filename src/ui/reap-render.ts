import { formatDuration } from '../config/duration.ts';
import { visibleDeep } from '../cli/output.ts';
import type { DeviceMemory, ReapResult } from '../reap/execute.ts';
import type { PlanEntry, ReapPlan } from '../reap/plan.ts';
import { paint } from './colour.ts';
import { table } from './table.ts';
import { fitLine } from './width.ts';
import { formatBytes } from '../strays/gpu-view.ts';

// commands are cut at the end by display width (a command's head says what it is)
const cut = (s: string, max = 70) => fitLine(s, max);

function why(e: PlanEntry): string {
  if (e.selectedBy === 'subtree') return `child of ${e.under}`;
  if (e.reasons.length) return e.reasons.join(',');
  if (e.selectedBy === 'run' || e.selectedBy === 'job') return `${e.selectedBy} ${e.jobId ?? e.runId ?? ''}`.trim();
  return 'named';
}

/** The plan a person confirms: what will be signalled (with each target's subtree), and what is left alone and why. */
export function renderPlan(raw: ReapPlan): string {
  const plan = visibleDeep(raw); // commands and users are shown, never interpreted by the terminal
  const out: string[] = [];
  const n = plan.targets.length;
  const sub = plan.targets.filter((t) => t.selectedBy === 'subtree').length;
  out.push(paint(`reap plan: ${n} process(es)${sub ? ` (${sub} of them in subtrees)` : ''}, ${plan.zombies.length} zombie(s), ${plan.skipped.length} left alone`, 'bold'));
  if (n) {
    const rows = plan.targets.map((t) => [String(t.pid), t.user, t.state, t.gpu.length ? (t.gpuBytes ? formatBytes(t.gpuBytes) : 'device') : '', why(t), cut(t.command)]);
    out.push(table(rows, ['PID', 'USER', 'STATE', 'GPU', 'WHY', 'COMMAND']).trimEnd());
  }
  for (const z of plan.zombies) {
    out.push(z.resolved
      ? `zombie ${z.pid}: resolved by reaping its parent ${z.ppid} (${z.parentComm}), which is a target`
      : `zombie ${z.pid}: not signalled (already dead); its parent ${z.ppid} (${z.parentComm}) is not a target${z.ppid > 1 ? `: corral reap ${z.ppid}` : ' and init must reap it'}`);
  }
  if (plan.skipped.length) {
    out.push(paint('left alone:', 'yellow'));
    for (const s of plan.skipped) out.push(`  ${s.pid} ${s.user} ${cut(s.command, 50)}: ${s.detail}${s.fix ? `  (${s.fix})` : ''}`);
  }
  if (plan.notTaken) {
    out.push(`${plan.notTaken} other stray(s) not taken: as root, --strays takes only strays of corral runs and GPU holders; give --reason (e.g. --reason orphan,stopped) to take others`);
  }
  return out.join('\n') + '\n';
}

function gpuLines(before: DeviceMemory[], after: DeviceMemory[]): string[] {
  if (!before.length && !after.length) return ['GPU memory: no GPU on this machine'];
  return ['GPU memory, before and after:', ...before.map((b) => {
    const a = after.find((x) => x.index === b.index);
    return `  GPU ${b.index}${b.name ? ` ${b.name}` : ''}: ${formatBytes(b.usedBytes)} -> ${a ? formatBytes(a.usedBytes) : '?'} used (of ${formatBytes(b.totalBytes)})`;
  })];
}

/** The outcome: what was killed, what remains and why (with the command that deals with it), GPU memory before and after. */
export function renderResult(raw: ReapResult): string {
  const res = visibleDeep(raw);
  const out: string[] = [];
  out.push(paint(`reaped ${res.killed.length} process(es) in ${formatDuration(res.ms)}${res.escalated ? ' (some needed SIGKILL)' : ''}`, 'green'));
  for (const k of res.killed) out.push(`  killed ${k.pid} ${k.user} ${cut(k.command)}`);
  const real = res.remaining.filter((r) => r.why !== 'skipped');
  if (real.length) {
    out.push(paint(`${real.length} remain:`, 'red'));
    for (const r of real) out.push(`  ${r.pid} ${r.user} ${r.state} ${cut(r.command, 50)}: ${r.detail}${r.fix ? `\n    fix: ${r.fix}` : ''}`);
  }
  out.push(...gpuLines(res.gpuBefore, res.gpuAfter));
  if (res.freedBytes) out.push(`GPU memory held by the killed processes: ${formatBytes(res.freedBytes)}`);
  return out.join('\n') + '\n';
}
