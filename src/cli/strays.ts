import type { Command } from 'commander';
import { openLedgerToRead } from '../ledger/db.ts';
import { resolveRunFlag } from '../ledger/refs.ts';
import { formatDuration } from '../config/duration.ts';
import { formatBytes } from '../strays/gpu-view.ts';
import { addScanOptions, prepareScan, runScan, type ScanFlags } from '../strays/query.ts';
import { scanToJson, type StrayScan } from '../strays/scan.ts';
import { EN } from '../strays/text-en.ts';
import type { Stray } from '../strays/types.ts';
import { paint, printJson, say, table, visibleDeep } from './output.ts';
import { fitLine } from '../ui/width.ts';

const SEVERITY_COLOR = { info: 'gray', warning: 'yellow', critical: 'red' } as const;

function runJob(s: Stray): string {
  const a = s.attribution;
  if (!a.runId) return a.activeAtStart.length ? `(during ${a.activeAtStart.map((r) => r.id).join(',')})` : '';
  const job = a.jobId?.startsWith(a.runId + '.') ? a.jobId.slice(a.runId.length + 1) : a.jobId;
  return job ? `${a.runId}/${job}` : a.runId;
}

/** a command cut by display width at its end (its head says what it is), marked with … */
function cut(s: string, max = 60): string {
  return fitLine(s, max);
}

/** Zombies of one parent are one fact (the parent does not reap): five or more of them make one row. */
function groupZombies(strays: Stray[]): { rows: Stray[]; groups: Map<number, Stray[]> } {
  const byParent = new Map<number, Stray[]>();
  for (const s of strays) if (s.state === 'Z') byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const groups = new Map([...byParent].filter(([, list]) => list.length >= 5));
  return { rows: strays.filter((s) => !(s.state === 'Z' && groups.has(s.ppid))), groups };
}

export function renderStrays(raw: Stray[]): string {
  // commands, users and paths are the users': shown with visible escapes, never interpreted by the terminal
  const { rows: shown, groups } = groupZombies(visibleDeep(raw));
  const rows = shown.map((s) => [
    String(s.pid), s.user, s.state, formatDuration(s.runtimeMs), s.gpu.length ? (s.gpuBytes ? formatBytes(s.gpuBytes) : 'device') : '',
    paint(s.severity, SEVERITY_COLOR[s.severity]), s.reasons.map((r) => r.reason).join(','), runJob(s), cut(s.command) + (s.rewritten ? ' [renamed]' : ''),
  ]);
  for (const [ppid, list] of groups) {
    rows.push([`${list.length}×`, list[0]!.user, 'Z', '', '', paint('info', 'gray'), 'zombie', '', `zombies of pid ${ppid} (${list[0]!.parent?.comm ?? '?'})`]);
  }
  const out = [table(rows, ['PID', 'USER', 'STATE', 'AGE', 'GPU', 'SEVERITY', 'REASONS', 'RUN/JOB', 'COMMAND'])];
  for (const s of shown) {
    for (const h of s.reasons) out.push(`  ${s.pid} ${paint(h.reason, 'bold')}: ${EN.explain(h)}\n`);
    if (s.sudo) out.push(`  ${s.pid} launched via sudo by ${s.sudo.user ?? '?'} (uid ${s.sudo.uid ?? '?'})\n`);
    if (s.rewritten) out.push(`  ${s.pid} renamed itself: argv[0] '${s.rewritten.argv0}', executable ${s.rewritten.exe}\n`);
  }
  for (const [ppid, list] of groups) {
    out.push(`  ${list.length} zombies (${list.slice(0, 5).map((z) => z.pid).join(', ')}${list.length > 5 ? ', …' : ''}): their parent pid ${ppid} (${list[0]!.parent?.comm ?? '?'}) has not reaped them\n`);
  }
  return out.join('');
}

/** What `corral strays --json` prints (the dashboard's /api/strays serves the same). */
export function straysJson(scan: StrayScan, strays: Stray[]) {
  return { ...scanToJson(scan), strays };
}

export function register(program: Command): void {
  const cmd = program
    .command('strays')
    .description('scan every process for strays: left by ended runs, orphaned, stopped, zombie, unkillable, holding a GPU with no owner')
    .option('--json', 'machine-readable output');
  addScanOptions(cmd)
    .addHelpText('after', `
Reasons: run-ended, orphan, stopped, zombie, unkillable, gpu-holder, idle-gpu-holder (needs --sample).
Severity is critical for anything holding GPU memory.

Examples:
  corral strays                              every stray on the machine
  corral strays --reason orphan,stopped      only those reasons
  corral strays --run last                   what the last run left behind
  corral strays --gpu 0 --sample 3s          GPU 0's holders, flagging idle ones
  corral strays --user alice --older-than 1d --json

Then: corral report (the analysis, in Markdown), corral reap --strays --dry-run (what a cleanup would do).
Legitimate daemons (tmux, ssh-agent, systemd services, ...) are never orphans; extend the list in
$CORRAL_HOME/strays-allow.yaml (names, commands, cgroups, users) or pass --allow-list FILE.`)
    .action(async (flags: ScanFlags & { json?: boolean }) => {
      // one reference grammar: an unknown or ambiguous --run is a usage error, not an empty scan
      flags.run = resolveRunFlag(openLedgerToRead(), flags.run);
      const query = prepareScan(flags);
      const { scan, strays } = await runScan(query);
      if (flags.json) return printJson(straysJson(scan, strays));
      if (!strays.length) {
        process.stdout.write(`no strays among ${scan.processCount} processes\n`);
        return;
      }
      process.stdout.write(renderStrays(strays));
      const critical = strays.filter((s) => s.severity === 'critical').length;
      say(`${strays.length} stray(s)${critical ? `, ${critical} critical` : ''} among ${scan.processCount} processes (${formatDuration(scan.scanMs)})`);
      say('details: corral report   preview a cleanup: corral reap --strays --dry-run');
    });
}
