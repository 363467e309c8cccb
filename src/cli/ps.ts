import type { Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { openLedgerToRead, type Db } from '../ledger/db.ts';
import { listRuns, type RunRow } from '../ledger/runs.ts';
import { jobsOfRun } from '../ledger/jobs.ts';
import { resolveRunRef } from '../ledger/refs.ts';
import { runState } from '../ledger/run-state.ts';
import { ageMs, CLOCK_TICKS, pageSize } from '../proc/clock.ts';
import { takeSnapshot, type ProcInfo, type Snapshot } from '../proc/snapshot.ts';
import { paint, printJson, visibleDeep } from './output.ts';
import { membersOfRun } from './run-members.ts';

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
    .argument('[run]', "only this run (last, an id or unique prefix, or a name)")
    .option('--json', 'machine-readable output')
    .addHelpText('after', `
A run whose supervisor and sentinel are both gone is shown as lost, with the number of its processes
still alive (its strays): end it with corral stop RUN (or corral reap --run RUN).

Examples:
  corral ps
  corral ps last
  corral ps --json | jq ".[].jobs[].processes"`)
    .action((ref: string | undefined, flags: { json?: boolean }) => {
      const db = openLedgerToRead();
      const only = ref === undefined ? undefined : resolveRunRef(db, ref);
      const runs = liveRunsJson(db, takeSnapshot({ cgroup: false }), only);
      if (flags.json) return printJson(runs);
      if (only && !runs.length) return void process.stdout.write(`run ${only.id} is not running (${only.status}): see corral history\n`);
      if (!runs.length) return void process.stdout.write('no live runs\n');
      for (const r of visibleDeep(runs)) {
        const health = r.supervisorAlive ? '' : r.rebooted
          ? paint(' LOST: started before the machine last rebooted; nothing of it can be running', 'red')
          : r.sentinelAlive
          ? paint(' (supervisor gone; sentinel tearing down)', 'red')
          : paint(` LOST: supervisor and sentinel gone, ${r.strays} stray(s) left: corral stop ${r.id}`, 'red');
        process.stdout.write(`${paint(r.id, 'bold')}${r.name ? ` ${r.name}` : ''}  ${r.kind}, ${r.status === 'running' ? '' : `${r.status}, `}up ${formatDuration(r.upMs)}, supervisor ${r.supervisorPid ?? '?'}${health}\n`);
        // a pool's finished tasks are one line: a live pool of 10,000 items must not print 10,000 rows
        const done = r.kind === 'pool' ? r.jobs.filter((j) => j.role === 'task' && FINISHED.has(j.state)) : [];
        if (done.length) process.stdout.write(`  ${describeFinished(done)} (corral show ${r.id})\n`);
        for (const j of r.jobs.filter((x) => !done.includes(x))) {
          process.stdout.write(`  ${paint(j.name, 'cyan')} [${j.role}] ${j.state}${j.attempts > 1 ? `, attempt ${j.attempts}` : ''}\n`);
          process.stdout.write('    PID      STATE  CPU%   RSS      AGE       COMMAND\n');
          for (const line of renderTree(j.processes, '    ')) process.stdout.write(line + '\n');
        }
      }
    });
}

/** What `corral ps --json` prints: the live runs (or only `only`), per job its process tree, judged against one snapshot. */
export function liveRunsJson(db: Db, snap: Snapshot, only?: RunRow) {
  const now = Date.now();
  const rows = only ? [only].filter((r) => r.status === 'running') : listRuns(db, { status: 'running', limit: 1000 });
  return rows.map((run) => {
    const state = runState(run);
    const members = membersOfRun(db, run, snap);
    const jobs = jobsOfRun(db, run.id).map((j) => {
      const mine = [...members.values()].filter((m) => m.jobId === j.id).map((m) => snap.get(m.pid)!);
      return { id: j.id, name: j.name, role: j.role, state: j.state, attempts: j.attempts, processes: buildTree(mine, members, now) };
    });
    const unattributed = [...members.values()].filter((m) => m.jobId === run.id).map((m) => snap.get(m.pid)!);
    if (unattributed.length) jobs.push({ id: run.id, name: '(run)', role: 'adopted', state: 'running', attempts: 0, processes: buildTree(unattributed, members, now) });
    return {
      id: run.id, name: run.name, kind: run.kind, status: state.status, startedAt: run.started_at,
      // boot-relative: a stepped wall clock does not change how long a run has been up
      upMs: run.start_ticks !== null ? ageMs(run.start_ticks) : now - run.started_at, supervisorPid: run.supervisor_pid,
      supervisorAlive: state.supervisorAlive, sentinelAlive: state.sentinelAlive,
      // of a lost run, every process still alive is a stray: nothing of corral will stop it
      strays: state.lostUnrecorded ? members.size : 0, rebooted: state.earlierBoot, containment: run.containment, jobs,
    };
  });
}

const FINISHED = new Set(['succeeded', 'failed', 'stopped', 'skipped', 'lost']);

/** `12 finished tasks: 10 succeeded, 1 failed, 1 skipped` */
export function describeFinished(jobs: { state: string }[]): string {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.state, (counts.get(j.state) ?? 0) + 1);
  const parts = [...FINISHED].filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  return `${jobs.length} finished task${jobs.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
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
