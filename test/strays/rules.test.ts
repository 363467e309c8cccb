import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRow } from '../../src/ledger/runs.ts';
import type { RegistryRow } from '../../src/ledger/registry.ts';
import type { ProcInfo, Snapshot } from '../../src/proc/snapshot.ts';
import { defaultAllowList } from '../../src/strays/allow-list.ts';
import { Attributor } from '../../src/strays/attribution.ts';
import { EMPTY_LEDGER, type LedgerView } from '../../src/strays/ledger-view.ts';
import { classifyProcess, overallSeverity, type RuleContext } from '../../src/strays/rules.ts';
import type { GpuUse } from '../../src/strays/types.ts';

const RUN = '20261123-111800-a3f9';

function proc(p: Partial<ProcInfo> & { pid: number }): ProcInfo {
  return {
    comm: 'python3', state: 'S', ppid: 1, pgid: p.pid, sid: p.pid, ttyNr: 0, cpuTicks: 10, threads: 1, starttime: 900_000, rssPages: 100,
    uid: 1000, cmdline: ['python3', 'train.py'], kernelThread: false, cgroup: '/user.slice/session-3.scope', env: { readable: true }, ...p,
  };
}

function runRow(over: Partial<RunRow> = {}): RunRow {
  return {
    id: RUN, kind: 'run', name: null, argv: '[]', cwd: null, uid: 1000, user: 'alice', host: 'h', supervisor_pid: 500, supervisor_starttime: 50_000,
    sentinel_pid: 501, sentinel_starttime: 50_001, containment: null, cgroup: null, config: null, started_at: 0, ended_at: null, status: 'running',
    stop_reason: null, exit_code: null, boot_id: null, start_ticks: null, end_ticks: null, ...over,
  };
}

function ledger(runs: RunRow[], registry: RegistryRow[] = []): LedgerView {
  return {
    ...EMPTY_LEDGER,
    run: (id) => runs.find((r) => r.id === id),
    registryEntry: (id) => registry.find((r) => r.pid === id.pid && r.starttime === id.starttime),
  };
}

function context(procs: ProcInfo[], view: LedgerView = EMPTY_LEDGER, gpu: [number, GpuUse[]][] = [], cpuDelta?: Map<number, number>): RuleContext {
  const snap: Snapshot = new Map(procs.map((p) => [p.pid, p]));
  snap.set(1, proc({ pid: 1, ppid: 0, sid: 1, comm: 'systemd', uid: 0, starttime: 1 }));
  return {
    snap, attributor: new Attributor(snap, view), allow: defaultAllowList(), gpuByPid: new Map(gpu), cpuDelta, sampleMs: cpuDelta ? 1000 : undefined,
    allowCtx: { initSid: 1, bootDaemonTicks: 30_000, userOf: (uid) => (uid === 0 ? 'root' : 'alice'), exeOf: () => ({ path: '/usr/bin/tmux', uid: 0, mode: 0o100755 }) }, wchanOf: () => 'nfs_wait_on_request',
  };
}

const reasons = (p: ProcInfo, ctx: RuleContext) => classifyProcess(p, ctx).reasons.map((r) => r.reason);

test('run-ended: the marker of a run still marked running whose supervisor and sentinel are both gone', () => {
  const p = proc({ pid: 700, env: { readable: true, runId: RUN, jobId: `${RUN}.main` } });
  const c = classifyProcess(p, context([p], ledger([runRow()])));
  assert.deepEqual(c.reasons.map((r) => r.reason), ['run-ended', 'orphan']);
  assert.deepEqual(c.reasons[0]!.data, { runId: RUN, jobId: `${RUN}.main`, via: 'marker', known: true, status: 'running', stopReason: null, supervisorAlive: false, sentinelAlive: false });
  assert.equal(c.attribution.run?.live, false);
});

test('a live run owns its processes: no run-ended, and no orphan even when re-parented to init', () => {
  const p = proc({ pid: 700, env: { readable: true, runId: RUN } });
  const supervisor = proc({ pid: 500, starttime: 50_000, comm: 'node' });
  assert.deepEqual(reasons(p, context([p, supervisor], ledger([runRow()]))), []);
  const sentinelOnly = proc({ pid: 501, starttime: 50_001, comm: 'sh' });
  assert.deepEqual(reasons(p, context([p, sentinelOnly], ledger([runRow()]))), [], 'a sentinel tearing down still owns the run');
});

test('a run that ended normally: its survivor is run-ended with the stop reason', () => {
  const p = proc({ pid: 700, ppid: 650, env: { readable: true, runId: RUN } });
  const c = classifyProcess(p, context([p, proc({ pid: 650 })], ledger([runRow({ status: 'failed', stop_reason: 'timeout', ended_at: 5 })])));
  assert.deepEqual(c.reasons.map((r) => [r.reason, r.data.status, r.data.stopReason]), [['run-ended', 'failed', 'timeout']]);
});

test('attribution without markers: the registry, the run cgroup, then an attributed ancestor', () => {
  const reg: RegistryRow = { pid: 700, starttime: 900_000, run_id: RUN, job_id: `${RUN}.main`, ppid: 10, uid: 1000, comm: 'x', cmdline: '[]', how: 'tree', first_seen: 0, gone_at: null };
  const byReg = proc({ pid: 700 });
  assert.equal(classifyProcess(byReg, context([byReg], ledger([runRow()], [reg]))).attribution.via, 'registry');
  const byCg = proc({ pid: 701, cgroup: `/system.slice/corral-${RUN}/${RUN}.sidecar1` });
  const a = classifyProcess(byCg, context([byCg], ledger([runRow()]))).attribution;
  assert.deepEqual([a.runId, a.jobId, a.via], [RUN, `${RUN}.sidecar1`, 'cgroup']);
  const child = proc({ pid: 702, ppid: 701, env: { readable: true } });
  const b = classifyProcess(child, context([byCg, child], ledger([runRow()]))).attribution;
  assert.deepEqual([b.runId, b.via], [RUN, 'ancestor']);
});

test("a marker of a run this ledger does not know: owned while an unmarked ancestor (its supervisor) lives", () => {
  const env = { readable: true, runId: '20260101-000000-ffff' };
  const orphaned = proc({ pid: 700, env });
  const r = classifyProcess(orphaned, context([orphaned]));
  assert.deepEqual([r.reasons[0]?.reason, r.reasons[0]?.data.known], ['run-ended', false]);
  const supervised = proc({ pid: 700, ppid: 600, env });
  assert.deepEqual(reasons(supervised, context([supervised, proc({ pid: 600, ppid: 400, comm: 'node' }), proc({ pid: 400, comm: 'bash' })])), []);
});

test('orphan: re-parented to init or a user subreaper, unless allow-listed', () => {
  const plain = proc({ pid: 700 });
  assert.deepEqual(reasons(plain, context([plain])), ['orphan']);
  const tmux = proc({ pid: 701, comm: 'tmux: server', cmdline: ['tmux'] });
  const service = proc({ pid: 702, cgroup: '/system.slice/jupyter.service' });
  const initSession = proc({ pid: 703, sid: 1 });
  const bootDaemon = proc({ pid: 704, starttime: 1200 });
  for (const p of [tmux, service, initSession, bootDaemon]) {
    const c = classifyProcess(p, context([p]));
    assert.deepEqual(c.reasons, [], p.comm);
    assert.ok(c.allowListed, `${p.pid} is allow-listed`);
  }
  const userManager = proc({ pid: 650, comm: 'systemd', cmdline: ['/lib/systemd/systemd', '--user'] });
  const adopted = proc({ pid: 705, ppid: 650 });
  const c = classifyProcess(adopted, context([userManager, adopted]));
  assert.deepEqual(c.reasons.map((r) => [r.reason, r.data.adoptedBy]), [['orphan', 'subreaper']]);
  const child = proc({ pid: 706, ppid: 700 });
  assert.deepEqual(reasons(child, context([plain, child])), [], 'a child of a live parent is not an orphan');
});

test('stopped, traced, zombie (naming its parent) and unkillable (with wchan)', () => {
  const parent = proc({ pid: 600, ppid: 400, comm: 'bash' });
  const stopped = proc({ pid: 601, ppid: 600, state: 'T' });
  const traced = proc({ pid: 602, ppid: 600, state: 't' });
  const zombie = proc({ pid: 603, ppid: 600, state: 'Z', cmdline: [] });
  const dstate = proc({ pid: 604, ppid: 600, state: 'D' });
  const ctx = context([proc({ pid: 400 }), parent, stopped, traced, zombie, dstate]);
  assert.deepEqual(classifyProcess(stopped, ctx).reasons.map((r) => [r.reason, r.data.traced]), [['stopped', false]]);
  assert.deepEqual(classifyProcess(traced, ctx).reasons.map((r) => [r.reason, r.data.traced]), [['stopped', true]]);
  assert.deepEqual(classifyProcess(zombie, ctx).reasons.map((r) => [r.reason, r.data.parentPid, r.data.parentComm]), [['zombie', 600, 'bash']]);
  assert.deepEqual(classifyProcess(dstate, ctx).reasons.map((r) => [r.reason, r.data.wchan]), [['unkillable', 'nfs_wait_on_request']]);
});

test('gpu-holder: critical with memory, a warning for a device fd alone, nothing while a live run owns it', () => {
  const gib = 5.5 * 2 ** 30;
  const p = proc({ pid: 700, ppid: 600 });
  const parent = proc({ pid: 600, ppid: 400 });
  const mem = context([parent, p], EMPTY_LEDGER, [[700, [{ device: 0, usedBytes: gib, kind: 'compute' }]]]);
  const hit = classifyProcess(p, mem).reasons;
  assert.deepEqual(hit.map((r) => [r.reason, r.severity, r.data.bytes, r.data.devices]), [['gpu-holder', 'critical', gib, '0']]);
  assert.equal(overallSeverity([], gib), 'critical', 'any GPU memory makes a stray critical');
  const fd = context([parent, p], EMPTY_LEDGER, [[700, [{ device: -1, deviceMinor: 3, usedBytes: null, kind: 'device-fd' }]]]);
  assert.deepEqual(classifyProcess(p, fd).reasons.map((r) => [r.reason, r.severity, r.data.devices]), [['gpu-holder', 'warning', 'minor 3']]);
  const owned = proc({ pid: 700, ppid: 500, env: { readable: true, runId: RUN } });
  const live = context([owned, proc({ pid: 500, starttime: 50_000 })], ledger([runRow()]), [[700, [{ device: 0, usedBytes: gib, kind: 'compute' }]]]);
  assert.deepEqual(reasons(owned, live), []);
});

test('idle-gpu-holder: GPU memory and no CPU over the sampling window', () => {
  const p = proc({ pid: 700, ppid: 600 });
  const gpu: [number, GpuUse[]][] = [[700, [{ device: 1, usedBytes: 2 ** 30, kind: 'compute' }]]];
  const idle = context([proc({ pid: 600, ppid: 400 }), p], EMPTY_LEDGER, gpu, new Map([[700, 0]]));
  assert.deepEqual(reasons(p, idle), ['gpu-holder', 'idle-gpu-holder']);
  const busy = context([proc({ pid: 600, ppid: 400 }), p], EMPTY_LEDGER, gpu, new Map([[700, 12]]));
  assert.deepEqual(reasons(p, busy), ['gpu-holder']);
});
