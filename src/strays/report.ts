import { visibleLines } from '../cli/output.ts';
import { formatDuration } from '../config/duration.ts';
import { likelyCauses } from './causes.ts';
import { reapCommand, reapTargetOf, verifyCommands } from './commands.ts';
import { formatBytes } from './gpu-view.ts';
import type { StrayScan } from './scan.ts';
import type { StrayText } from './text.ts';
import { strayTimeline } from './timeline.ts';
import type { Stray } from './types.ts';

export interface ReportOptions {
  version: string;
  currentUid?: number;
}

const time = (ms: number, millis = false) => new Date(ms).toISOString().replace('T', ' ').slice(0, millis ? 23 : 19) + ' UTC';

/** Inline code that survives backticks and table pipes inside the text. */
function code(text: string, inTable = false): string {
  const t = inTable ? text.replace(/\|/g, '\\|') : text;
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``;
}

function shorten(text: string, max = 60): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

function runCell(s: Stray): string {
  const a = s.attribution;
  if (!a.runId) return '';
  const job = a.jobId && a.jobId.startsWith(a.runId + '.') ? a.jobId.slice(a.runId.length + 1) : a.jobId;
  return job ? `${a.runId} / ${job}` : a.runId;
}

function gpuCell(s: Stray, t: StrayText): string {
  if (!s.gpu.length) return '';
  return s.gpuBytes > 0 ? formatBytes(s.gpuBytes) : t.unknown;
}

function renderGpus(scan: StrayScan, t: StrayText): string[] {
  const out = [`## ${t.r.gpuHeading}`, ''];
  if (!scan.gpu.devices.length) {
    const probes = scan.gpu.probes.map((p) => `${p.name} ${p.ok ? 'ok' : p.error ?? 'failed'}`).join('; ') || t.none;
    out.push(t.r.noGpu(probes));
  } else {
    for (const d of scan.gpu.devices) out.push(`- ${t.r.gpuDevice(d.index, d.name ?? '', formatBytes(d.memUsedBytes), formatBytes(d.memTotalBytes))}`);
  }
  return [...out, ''];
}

function renderSummary(strays: Stray[], t: StrayText): string[] {
  const c = t.r.columns;
  const out = [`## ${t.r.summaryHeading}`, ''];
  if (!strays.length) return [...out, t.r.noStrays, ''];
  out.push(`| ${c.pid} | ${c.user} | ${c.state} | ${c.runtime} | ${c.gpu} | ${c.severity} | ${c.reasons} | ${c.run} | ${c.command} |`);
  out.push('|---:|---|---|---:|---:|---|---|---|---|');
  for (const s of strays) {
    const reasons = s.reasons.map((r) => t.reason[r.reason]).join(', ');
    out.push(`| ${s.pid} | ${s.user} | ${s.state} | ${formatDuration(s.runtimeMs)} | ${gpuCell(s, t)} | ${t.severity[s.severity]} | ${reasons} | ${runCell(s)} | ${code(shorten(s.command), true)} |`);
  }
  return [...out, ''];
}

function jobName(runId: string, jobId: string | undefined): string | undefined {
  return jobId?.startsWith(runId + '.') ? jobId.slice(runId.length + 1) : jobId;
}

function renderFacts(s: Stray, t: StrayText): string[] {
  const r = t.r;
  const a = s.attribution;
  const field = (label: string, value: string) => `- **${label}**${t.colon}${value}`;
  const orphan = s.adoptedBy === 'init' ? r.orphanedInit : s.adoptedBy === 'subreaper' ? r.orphanedSubreaper(s.ppid, s.parent?.comm ?? '?') : t.no;
  const user = `${s.user}${t.paren(`uid ${s.uid}`)}${s.sudo ? `${t.semi}${r.sudo(s.sudo.user ?? '?', s.sudo.uid !== undefined ? String(s.sudo.uid) : '?')}` : ''}`;
  const gpu = s.gpu.length
    ? s.gpu.map((g) => r.gpuUse(g.device >= 0 ? String(g.device) : g.deviceMinor !== undefined ? `minor ${g.deviceMinor}` : '?', g.usedBytes !== null ? formatBytes(g.usedBytes) : null, (g.devicePaths ?? []).join(', '))).join(t.semi)
    : t.none;
  let owner: string;
  if (a.runId) owner = r.attributedTo(a.runId, jobName(a.runId, a.jobId) ?? null, t.via(a.via ?? '?')) + (a.run ? '' : t.paren(r.notInLedger));
  else owner = `${r.unattributed}${t.semi}${a.activeAtStart.length ? r.activeAtStart(a.activeAtStart.map((x) => x.id).join(', ')) : r.noRunsActive}`;
  const lines = [
    field(r.pidPpid, `${s.pid} / ${s.ppid}`),
    field(r.orphaned, orphan),
    field(r.user, user),
    field(r.started, time(s.startedAt)),
    field(r.runtime, formatDuration(s.runtimeMs)),
    field(r.command, `${code(s.command)}${s.rewritten ? `${t.semi}${r.rewritten(s.rewritten.argv0, s.rewritten.exe)}` : ''}`),
  ];
  if (s.exe) lines.push(field(r.exe, code(s.exe)));
  lines.push(field(r.gpu, gpu), field(r.state, `${t.state(s.state)}${s.wchan ? `${t.semi}${r.wchan(s.wchan)}` : ''}`));
  if (s.cgroup && s.cgroup !== '/') lines.push(field(r.cgroup, code(s.cgroup)));
  lines.push(field(r.attribution, owner));
  if (s.allowListed) lines.push(field(r.allowListed, s.allowListed));
  lines.push(`- **${r.reasons}**${t.colon.trim()}`);
  for (const h of s.reasons) lines.push(`  - **${t.reason[h.reason]}**${t.paren(t.severity[h.severity])}${t.colon}${t.explain(h)}`);
  return lines;
}

function renderStray(s: Stray, n: number, scan: StrayScan, t: StrayText, currentUid: number): string[] {
  const r = t.r;
  const out = [`## ${r.strayHeading(n, s.pid, shorten(s.command, 80))}`, '', `### ${r.factsHeading}`, '', ...renderFacts(s, t), ''];
  out.push(`### ${r.parentHeading}`, '');
  if (s.ppid === 1) out.push(r.parentInit);
  else if (s.parent) out.push(`${r.parentLine(s.parent.pid, s.parent.comm, s.parent.user, t.state(s.parent.state))}${t.colon}${code(s.parent.command)}`);
  else out.push(r.parentMissing(s.ppid));
  out.push('', `### ${r.timelineHeading}`, '');
  const tl = strayTimeline(s, scan.ledger);
  for (const e of tl.entries) out.push(`- ${time(e.at, true)}${t.colon}${t.event(e)}`);
  if (tl.omitted) out.push(`- ${r.omitted(tl.omitted)}`);
  out.push('', `### ${r.causesHeading}`, '');
  const causes = likelyCauses(s, scan.ledger, currentUid);
  if (!causes.length) out.push(r.noCauses);
  for (const c of causes) out.push(`- ${t.cause(c)}`);
  out.push('', `### ${r.verifyHeading}`, '', r.verifyIntro, '', '```sh', ...verifyCommands(s), '```', '', `### ${r.actionHeading}`, '');
  const target = reapTargetOf(s);
  if (!target) return [...out, r.actionZombieInit, ''];
  out.push(s.state === 'Z' ? r.actionZombie(s.ppid) : r.actionIntro, '', '```sh');
  out.push(reapCommand(target.pids, target.uids, currentUid, '--dry-run'), reapCommand(target.pids, target.uids, currentUid, '--yes'), '```', '');
  if (s.attribution.run && s.state !== 'Z') out.push(r.actionRun(s.attribution.run.id), '', '```sh', reapCommand([], [s.uid], currentUid, `--run ${s.attribution.run.id} --yes`), '```', '');
  return out;
}

/** The analysis report in Markdown: summary, then per stray its facts, parent, timeline, causes, checks and the reap line. */
export function renderReport(scan: StrayScan, strays: Stray[], t: StrayText, opts: ReportOptions): string {
  const currentUid = opts.currentUid ?? process.getuid?.() ?? -1;
  const out = [`# ${t.r.title}`, '', t.r.scanned(scan.host, time(scan.scannedAt), scan.processCount, strays.length)];
  if (scan.sampleMs) out.push(t.r.sampled(scan.sampleMs));
  if (scan.allowListSource) out.push(t.r.allowList(scan.allowListSource));
  out.push('', ...renderGpus(scan, t), ...renderSummary(strays, t));
  strays.forEach((s, i) => out.push(...renderStray(s, i + 1, scan, t, currentUid)));
  const all = strays.map(reapTargetOf).filter((x) => x !== null);
  if (all.length) {
    const pids = [...new Set(all.flatMap((x) => x.pids))];
    const uids = all.flatMap((x) => x.uids);
    out.push(`## ${t.r.allHeading}`, '', t.r.allIntro, '', '```sh', reapCommand(pids, uids, currentUid, '--dry-run'), reapCommand(pids, uids, currentUid, '--yes'), '```', '');
  }
  out.push('---', '', t.r.footer(opts.version), '');
  // command lines, names and paths are the users': no control or bidi character reaches a terminal or viewer
  return visibleLines(out.join('\n'));
}
