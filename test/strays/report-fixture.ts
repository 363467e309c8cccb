import type { EventRow } from '../../src/ledger/events.ts';
import type { AttemptRow } from '../../src/ledger/jobs.ts';
import type { RunRow } from '../../src/ledger/runs.ts';
import { EMPTY_LEDGER, type LedgerView } from '../../src/strays/ledger-view.ts';
import type { StrayScan } from '../../src/strays/scan.ts';
import type { RunFacts, Stray } from '../../src/strays/types.ts';

/** The first incident as a scan would see it: the orphaned, renamed, sudo-launched background trainer. */
export const RUN = '20261120-090000-b4c1';
const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const GIB = 2 ** 30;

const run: RunRow = {
  id: RUN, kind: 'run', name: 'parallel-exp', argv: '[]', cwd: '/srv/exp', uid: 0, user: 'root', host: 'gpu-7', supervisor_pid: 3900, supervisor_starttime: 10,
  sentinel_pid: 3901, sentinel_starttime: 11, containment: null, cgroup: null, status: 'lost', stop_reason: 'supervisor-lost', exit_code: null,
  config: JSON.stringify({ main: { restart: { mode: 'no' } }, sidecars: [{ name: 'sidecar1', restart: { mode: 'always' } }] }),
  started_at: T0, ended_at: T0 + 3_600_000, boot_id: 'b', start_ticks: 10, end_ticks: 360_010,
};
const facts: RunFacts = {
  id: RUN, name: run.name, status: 'lost', stopReason: 'supervisor-lost', startedAt: T0, endedAt: run.ended_at, uid: 0, user: 'root',
  supervisorAlive: false, sentinelAlive: false, live: false,
};
const attempts: AttemptRow[] = [{
  id: 1, job_id: `${RUN}.sidecar1`, run_id: RUN, n: 1, pid: 4000, starttime: 20, pgid: 4000, sid: 4000, cgroup: null, started_at: T0 + 1000,
  ended_at: null, exit_code: null, signal: null, stop_reason: null, leftovers: null,
}];
const events: EventRow[] = [
  { id: 1, run_id: RUN, job_id: `${RUN}.sidecar1`, at: T0 + 1000, kind: 'attempt-start', data: JSON.stringify({ n: 1, pid: 4000 }) },
  { id: 2, run_id: RUN, job_id: null, at: T0 + 3_600_000, kind: 'supervisor-lost', data: JSON.stringify({ members: 3, leftovers: [{ pid: 4242 }] }) },
];

export const ledger: LedgerView = {
  ...EMPTY_LEDGER,
  run: (id) => (id === RUN ? run : undefined),
  attempts: (id) => (id === RUN ? attempts : []),
  events: (id) => (id === RUN ? events : []),
};

const base = {
  starttime: 100, cpuTicks: 5, rssBytes: 1 << 20, gpu: [], gpuBytes: 0, attribution: { activeAtStart: [] }, cgroup: '/', orphaned: false,
};

export const trainer: Stray = {
  ...base, pid: 4242, ppid: 1, pgid: 4242, sid: 4242, uid: 0, user: 'root', state: 'S', comm: 'python', argv: ['python restarts_count 0'],
  command: 'python restarts_count 0', exe: '/usr/bin/python3.10', startedAt: T0 + 60_000, runtimeMs: 3 * 86_400_000, orphaned: true, adoptedBy: 'init',
  sudo: { user: 'alice', uid: 1000 }, rewritten: { argv0: 'python restarts_count 0', exe: '/usr/bin/python3.10' },
  gpu: [{ device: 0, usedBytes: 5.5 * GIB, kind: 'compute', devicePaths: ['/dev/nvidia0'] }], gpuBytes: 5.5 * GIB, severity: 'critical',
  reasons: [
    { reason: 'run-ended', severity: 'warning', data: { runId: RUN, jobId: `${RUN}.sidecar1`, via: 'marker', known: true, status: 'lost', stopReason: 'supervisor-lost', supervisorAlive: false, sentinelAlive: false } },
    { reason: 'orphan', severity: 'warning', data: { adoptedBy: 'init', ppid: 1, parentComm: 'systemd' } },
    { reason: 'gpu-holder', severity: 'critical', data: { bytes: 5.5 * GIB, devices: '0', memoryKnown: true } },
  ],
  attribution: { runId: RUN, jobId: `${RUN}.sidecar1`, via: 'marker', run: facts, activeAtStart: [] },
};

export const stoppedWorker: Stray = {
  ...base, pid: 5100, ppid: 5000, pgid: 5000, sid: 900, uid: 1000, user: 'alice', state: 'T', comm: 'python3', argv: ['python3', 'sample.py'],
  command: 'python3 sample.py', startedAt: T0 + 120_000, runtimeMs: 86_400_000, severity: 'warning',
  parent: { pid: 5000, uid: 1000, comm: 'bash', command: 'bash -c while true; do python3 sample.py; sleep 5; done', state: 'S', user: 'alice' },
  reasons: [{ reason: 'stopped', severity: 'warning', data: { state: 'T', traced: false } }],
  attribution: { activeAtStart: [facts] },
};

export const initZombie: Stray = {
  ...base, pid: 6000, ppid: 1, pgid: 6000, sid: 6000, uid: 1000, user: 'alice', state: 'Z', comm: 'python3', argv: [], command: '[python3]',
  startedAt: T0 + 180_000, runtimeMs: 1000, orphaned: true, adoptedBy: 'init', severity: 'info',
  reasons: [{ reason: 'zombie', severity: 'info', data: { parentPid: 1, parentComm: 'systemd', parentState: 'S' } }],
};

export function incidentScan(strays: Stray[] = [trainer, stoppedWorker, initZombie]): StrayScan {
  return {
    host: 'gpu-7', scannedAt: T0 + 3 * 86_400_000, scanMs: 80, processCount: 612, strays, ledger, allowListed: new Map(), snapshot: new Map(),
    userOf: (uid) => (uid === 0 ? 'root' : 'alice'),
    gpu: {
      devices: [{ index: 0, name: 'NVIDIA A100-SXM4-80GB', memTotalBytes: 80 * GIB, memUsedBytes: 5.6 * GIB, source: 'nvml' }],
      processes: [], probes: [{ name: 'nvml', ok: true }],
    },
  };
}
