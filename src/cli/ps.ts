import type { Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { openLedger } from '../ledger/db.ts';
import { listRuns } from '../ledger/runs.ts';
import { jobsOfRun } from '../ledger/jobs.ts';
import { isAlive } from '../proc/identity.ts';
import { ageMs, CLOCK_TICKS, pageSize } from '../proc/clock.ts';
import { takeSnapshot, type ProcInfo } from '../proc/snapshot.ts';
import { collectMembers, protectedPids } from '../supervise/members.ts';
import { scopesFromLedger } from '../supervise/ledger-scopes.ts';
import { paint, printJson } from './output.ts';

interface PsProcess {
  pid: number;
  ppid: number;
  state: string;
  cpuPercent: number;
  rssBytes: number;
  ageMs: number;
  user: number;
  command: string;
  foundBy: string;
  children: PsProcess[];
}

export function register(program: Command): void {
  program
    .command('ps')
    .description('live runs: per job a process tree with pid, state, CPU %, RSS, age and command')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  corral ps\n  corral ps --json | jq ".[].jobs[].processes"')
    .action((flags: { json?: boolean }) => {
      const db = openLedger();
      const snap = takeSnapshot({ cgroup: false });
      const now = Date.now();
      const runs = listRuns(db, { status: 'running', limit: 1000 }).map((run) => {
        const supervisorAlive = run.supervisor_pid !== null && isAlive({ pid: run.supervisor_pid, starttime: run.supervisor_starttime ?? -1 });
        const sentinelAlive = run.sentinel_pid !== null && isAlive({ pid: run.sentinel_pid, starttime: run.sentinel_starttime ?? -1 });
        const scopes = scopesFromLedger(db, run);
        const members = collectMembers(scopes, snap, protectedPids(snap, [run.sentinel_pid ?? 0]));
        const jobs = jobsOfRun(db, run.id).map((j) => {
          const mine = [...members.values()].filter((m) => m.jobId === j.id).map((m) => snap.get(m.pid)!);
          return { id: j.id, name: j.name, role: j.role, state: j.state, attempts: j.attempts, processes: buildTree(mine, members, now) };
        });
        const unattributed = [...members.values()].filter((m) => m.jobId === run.id).map((m) => snap.get(m.pid)!);
        if (unattributed.length) jobs.push({ id: run.id, name: '(run)', role: 'adopted', state: 'running', attempts: 0, processes: buildTree(unattributed, members, now) });
        return { id: run.id, name: run.name, kind: run.kind, startedAt: run.started_at, supervisorPid: run.supervisor_pid, supervisorAlive, sentinelAlive, containment: run.containment, jobs };
      });
      if (flags.json) return printJson(runs);
      if (!runs.length) return void process.stdout.write('no live runs\n');
      for (const r of runs) {
        const health = r.supervisorAlive ? '' : paint(r.sentinelAlive ? ' (supervisor gone; sentinel tearing down)' : ' (supervisor and sentinel gone: see corral strays)', 'red');
        process.stdout.write(`${paint(r.id, 'bold')}${r.name ? ` ${r.name}` : ''}  ${r.kind}, up ${formatDuration(now - r.startedAt)}, supervisor ${r.supervisorPid}${health}\n`);
        for (const j of r.jobs) {
          process.stdout.write(`  ${paint(j.name, 'cyan')} [${j.role}] ${j.state}${j.attempts > 1 ? `, attempt ${j.attempts}` : ''}\n`);
          process.stdout.write('    PID      STATE  CPU%   RSS      AGE       COMMAND\n');
          for (const line of renderTree(j.processes, '    ')) process.stdout.write(line + '\n');
        }
      }
    });
}

function toPs(p: ProcInfo, foundBy: string, now: number): PsProcess {
  const age = Math.max(1, ageMs(p.starttime));
  return {
    pid: p.pid, ppid: p.ppid, state: p.state, user: p.uid, foundBy,
    cpuPercent: Math.round(((p.cpuTicks / CLOCK_TICKS) * 1000 * 1000) / age) / 10,
    rssBytes: p.rssPages * pageSize(), ageMs: age, command: p.cmdline.join(' ') || `[${p.comm}]`, children: [],
  };
}

function buildTree(procs: ProcInfo[], members: Map<number, { how: string }>, now: number): PsProcess[] {
  const nodes = new Map(procs.map((p) => [p.pid, toPs(p, members.get(p.pid)?.how ?? '?', now)]));
  const roots: PsProcess[] = [];
  for (const n of nodes.values()) {
    const parent = nodes.get(n.ppid);
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  return roots;
}

function renderTree(nodes: PsProcess[], indent: string): string[] {
  const out: string[] = [];
  const walk = (n: PsProcess, prefix: string) => {
    const mib = `${(n.rssBytes / 2 ** 20).toFixed(1)}M`;
    out.push(`${indent}${String(n.pid).padEnd(8)} ${n.state.padEnd(6)} ${n.cpuPercent.toFixed(1).padStart(5)}  ${mib.padEnd(8)} ${formatDuration(n.ageMs).padEnd(9)} ${prefix}${n.command.slice(0, 120)}`);
    for (const c of n.children) walk(c, prefix ? `  ${prefix}` : '└ ');
  };
  for (const n of nodes) walk(n, '');
  return out;
}
