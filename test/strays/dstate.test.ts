import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProcInfo, Snapshot } from '../../src/proc/snapshot.ts';
import { defaultAllowList } from '../../src/strays/allow-list.ts';
import { EMPTY_LEDGER } from '../../src/strays/ledger-view.ts';
import { scanStrays } from '../../src/strays/scan.ts';
import { STRAY_FIXTURES } from './stray-kit.ts';

// A real /proc snapshot (record-dstate.ts): a vfork parent held in state D by its stopped child, beside
// init, kthreadd, a kernel thread, a daemon init started and two zombies of init.
const recorded = JSON.parse(readFileSync(join(STRAY_FIXTURES, 'snapshot-dstate.json'), 'utf8')) as {
  dPid: number; processes: ProcInfo[]; wchan: Record<string, string>;
};

async function classify() {
  const snapshot: Snapshot = new Map(recorded.processes.map((p) => [p.pid, p]));
  return scanStrays({
    snapshot, ledger: EMPTY_LEDGER, gpu: { devices: [], processes: [], probes: [] }, allowList: defaultAllowList(),
    wchanOf: (pid) => recorded.wchan[pid] ?? '?', protect: new Set([0, 1, 2]),
  });
}

test('a process in state D is unkillable, with the kernel function it waits in', async () => {
  const scan = await classify();
  const d = scan.strays.find((s) => s.pid === recorded.dPid);
  assert.ok(d, 'the D process is a stray');
  assert.equal(d.state, 'D');
  assert.deepEqual(d.reasons.map((r) => r.reason), ['unkillable']);
  assert.equal(d.reasons[0]!.data.wchan, 'kernel_clone');
  assert.equal(d.wchan, 'kernel_clone');
  assert.equal(d.severity, 'warning');
});

test('its stopped vfork child is stopped, not unkillable', async () => {
  const scan = await classify();
  const child = scan.strays.find((s) => s.ppid === recorded.dPid);
  assert.ok(child);
  assert.deepEqual(child.reasons.map((r) => r.reason), ['stopped']);
});

test('kernel threads, init and a daemon in init\'s own session are not strays', async () => {
  const scan = await classify();
  const pids = scan.strays.map((s) => s.pid);
  for (const p of recorded.processes) {
    if (p.kernelThread || p.pid === 1) assert.ok(!pids.includes(p.pid), `${p.pid} ${p.comm}`);
  }
  const daemon = recorded.processes.find((p) => p.ppid === 1 && p.state === 'S')!;
  assert.ok(!pids.includes(daemon.pid), `${daemon.pid} ${daemon.comm} is started by init, not orphaned`);
  assert.equal(scan.allowListed.get(daemon.pid), "init's own session");
});

test("zombies whose parent is init name init as the parent that does not reap them", async () => {
  const scan = await classify();
  const zombies = scan.strays.filter((s) => s.state === 'Z');
  assert.ok(zombies.length >= 1);
  for (const z of zombies) {
    assert.deepEqual(z.reasons.map((r) => r.reason), ['zombie']);
    assert.equal(z.reasons[0]!.data.parentPid, 1);
    assert.equal(z.orphaned, true, 'it was re-parented to init (a fact), yet its reason is zombie, not orphan');
  }
});
