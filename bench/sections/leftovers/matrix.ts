// The two axes of the leftovers matrix: the misbehaving workloads (test/fixtures) and the supervisors.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, FIXTURES, NODE, PEERS, WORKLOADS as WORKLOAD_DIR } from '../../lib/paths.ts';

/** A misbehaving test fixture and what "all of it is up" looks like. */
export interface Workload {
  id: string;
  label: string;
  fixture: string;
  /** processes carrying the mark in argv once everything is up (test/supervise/matrix.ts agrees) */
  ready: number;
  /** of those, how many stop themselves (state T) */
  stopped?: number;
  /** what it does, for the table's legend */
  what: string;
}

export const WORKLOADS: Workload[] = [
  { id: 'double-fork', label: 'double-fork daemon', fixture: 'double-fork.sh', ready: 2, what: 'a daemon made the classic way (fork, setsid, fork): re-parented away from the job, in a session of its own' },
  { id: 'setsid', label: 'setsid + setpgid children', fixture: 'setsid-child.sh', ready: 3, what: 'one child leaves the session (setsid), another the process group (setpgid): a group kill misses both' },
  { id: 'env-cleared', label: 'env -i double fork', fixture: 'env-cleared.sh', ready: 2, what: 'a double-forked daemon started with `env -i`: no inherited environment markers, own session' },
  { id: 'ignore-term', label: 'ignores SIGTERM', fixture: 'ignore-term.sh', ready: 3, what: 'two children that ignore SIGTERM (Python SIG_IGN, and a shell loop under `trap "" TERM`)' },
  { id: 'self-stop', label: 'SIGSTOPs itself', fixture: 'self-stop.sh', ready: 3, stopped: 2, what: 'two children that SIGSTOP themselves (state T), one of them also ignoring SIGTERM' },
  { id: 'mp-pool', label: 'Pool + subprocess', fixture: 'mp-pool.sh', ready: 8, what: '`multiprocessing.Pool(3)` whose tasks each `subprocess.run(..., timeout=3600)` a long child' },
  { id: 'restart-loop', label: 'bash restart loop', fixture: 'restart-loop.sh', ready: 3, what: 'a `while true` loop that restarts its trainer 0.2 s after it ends, beside the leader' },
];

export function hasFixtures(): boolean {
  return WORKLOADS.every((w) => existsSync(join(FIXTURES, w.fixture)));
}

/** The workload's argv: the launcher derives the mark wl_TOKEN, so only workload processes carry it. */
export function buildWorkloadArgv(w: Workload, token: string): string[] {
  return [join(WORKLOAD_DIR, 'launch.sh'), join(FIXTURES, w.fixture), token];
}

/** How one supervisor runs a workload: its argv and extra environment. */
export interface Launch {
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

export interface Supervisor {
  id: string;
  label: string;
  /** the exact command line shape, for the table's legend */
  shape: string;
  /** the peer it needs (an apt package or npm module); null for corral and coreutils */
  needs: string | null;
  corral?: boolean;
  /** work: the workload's argv; timeoutS: set only for the timeout ending; home: a fresh CORRAL_HOME */
  launch(work: string[], timeoutS: number | null, home: string): Launch;
}

// Supervisors without a timeout of their own get the one people put in front of them: timeout(1).
const withTimeout = (argv: string[], t: number | null) => (t ? ['timeout', '-k', '1', String(t), ...argv] : argv);

function corral(cgroup: boolean): Supervisor {
  return {
    id: cgroup ? 'corral' : 'corral-off',
    label: cgroup ? 'corral (cgroup2)' : 'corral (CORRAL_CGROUP=off)',
    shape: `${cgroup ? '' : 'CORRAL_CGROUP=off '}corral run --grace 1s [--timeout T] -- CMD`,
    needs: null,
    corral: true,
    launch: (work, t, home) => ({
      argv: [NODE, BIN, 'run', '-q', '--grace', '1s', ...(t ? ['--timeout', `${t}s`] : []), '--', ...work],
      env: { CORRAL_HOME: home, CORRAL_CGROUP: cgroup ? 'on' : 'off' },
    }),
  };
}

export const SUPERVISORS: Supervisor[] = [
  corral(true),
  corral(false),
  {
    id: 'timeout', label: 'timeout -k 1', shape: 'timeout -k 1 T CMD (T = 600 s for the signal endings)', needs: null,
    launch: (work, t) => ({ argv: ['timeout', '-k', '1', String(t ?? 600), ...work] }),
  },
  {
    id: 'tini', label: 'tini -s -g', shape: 'tini -s -g -- CMD (timeout ending: timeout -k 1 T tini ...)', needs: 'tini',
    launch: (work, t) => ({ argv: withTimeout(['tini', '-s', '-g', '--', ...work], t) }),
  },
  {
    id: 'dumb-init', label: 'dumb-init', shape: 'dumb-init CMD (timeout ending: timeout -k 1 T dumb-init ...)', needs: 'dumb-init',
    launch: (work, t) => ({ argv: withTimeout(['dumb-init', ...work], t) }),
  },
  {
    id: 'parallel', label: 'GNU parallel --timeout', shape: 'parallel --timeout T CMD ::: ARG (T = 600 s for the signal endings)', needs: 'parallel',
    launch: (work, t) => ({ argv: ['parallel', '--will-cite', '--timeout', String(t ?? 600), ...work.slice(0, -1), ':::', work[work.length - 1]!] }),
  },
  {
    id: 'execa', label: 'execa (cleanup, forceKillAfterDelay)', shape: 'await execa(CMD, {timeout, forceKillAfterDelay: 1000, cleanup: true})', needs: 'execa',
    launch: (work, t) => ({ argv: [NODE, join(PEERS, 'execa-supervisor.ts'), String((t ?? 0) * 1000), '--', ...work] }),
  },
  {
    id: 'tree-kill', label: 'tree-kill on the child pid', shape: 'spawn(CMD); on timeout/SIGTERM: treeKill(pid), 1 s later treeKill(pid, SIGKILL)', needs: 'tree-kill',
    launch: (work, t) => ({ argv: [NODE, join(PEERS, 'tree-kill-supervisor.ts'), String((t ?? 0) * 1000), '--', ...work] }),
  },
];
