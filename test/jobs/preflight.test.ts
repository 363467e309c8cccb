import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import type { GpuProcess, GpuView } from '../../src/gpu/types.ts';
import { belongsToRun, checkGpu, Preflight, type PreflightOptions } from '../../src/jobs/preflight.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/* The GPU slot check before each task, against probe views shaped like the merged NVML/procfs ones. */
const GiB = 2 ** 30;

function view(processes: Partial<GpuProcess>[], used = [2 * GiB, 0]): GpuView {
  return {
    devices: used.map((u, index) => ({ index, memTotalBytes: 80 * GiB, memUsedBytes: u, source: 'nvml' as const })),
    processes: processes.map((p) => ({ pid: 1, device: 0, usedBytes: GiB, kind: 'compute' as const, sources: ['nvml' as const], ...p })),
    probes: [{ name: 'nvml', ok: true }],
  };
}

function preflight(probe: () => GpuView, opts: Partial<PreflightOptions> = {}): { pf: Preflight; said: string[]; probes: () => number } {
  const said: string[] = [];
  let n = 0;
  const pf = new Preflight({ policy: 'warn', minFreeBytes: null, ours: () => false, say: (l) => said.push(l), pollMs: 10, ...opts, probe: async () => (n++, probe()) });
  return { pf, said, probes: () => n };
}

const go = new AbortController().signal;

describe('checkGpu', () => {
  it("names other users' processes on the slot's GPU and leaves this run's own out", async () => {
    const t = new Tracker();
    const token = t.token('pf');
    const mine = spawn('sleep', ['30'], { env: { ...process.env, CORRAL_RUN_ID: 'R1', TOKEN: token }, stdio: 'ignore' });
    const other = spawn('sleep', ['30'], { env: { ...process.env, TOKEN: token }, stdio: 'ignore' });
    t.pid(mine.pid);
    t.pid(other.pid);
    try {
      await waitFor(() => belongsToRun(mine.pid!, 'R1', []), 'the marked process to exec');
      const v = view([{ pid: mine.pid! }, { pid: other.pid!, usedBytes: 5.5 * GiB }, { pid: other.pid!, device: 1 }]);
      const c = checkGpu(v, 0, (pid) => belongsToRun(pid, 'R1', []), null);
      assert.deepEqual(c.others.map((o) => o.pid), [other.pid]);
      assert.equal(c.others[0]!.usedBytes, 5.5 * GiB);
      assert.match(c.others[0]!.command, /sleep 30/);
      assert.equal(c.freeBytes, 78 * GiB);
      assert.equal(checkGpu(v, 0, (pid) => belongsToRun(pid, 'R1', [{ pid: other.pid!, starttime: 0 }]), null).others.length, 0, 'a registry entry counts as ours');
    } finally {
      for (const c of [mine, other]) {
        const gone = once(c, 'exit');
        c.kill('SIGKILL');
        await gone;
      }
      assert.deepEqual(await t.cleanup(), []);
    }
  });

  it('min-free-mem: enough only when the probe tells the free memory and it suffices', () => {
    assert.equal(checkGpu(view([], [79 * GiB, 0]), 0, () => false, 2 * GiB).enoughMem, false);
    assert.equal(checkGpu(view([], [79 * GiB, 0]), 1, () => false, 2 * GiB).enoughMem, true);
    const unknownMem: GpuView = { devices: [{ index: 0, source: 'procfs' }], processes: [], probes: [] };
    assert.equal(checkGpu(unknownMem, 0, () => false, GiB).enoughMem, false);
    assert.equal(checkGpu(unknownMem, 0, () => false, null).enoughMem, true);
    assert.equal(checkGpu(unknownMem, 3, () => false, null).known, false);
  });
});

const busy_ = () => view([{ pid: process.ppid }]);

describe('Preflight policies', () => {
  const busy = busy_;

  it('ignore and CPU slots never probe', async () => {
    const { pf, probes } = preflight(busy, { policy: 'ignore' });
    assert.deepEqual(await pf.beforeTask(0, go), { go: true });
    const warn = preflight(busy);
    assert.deepEqual(await warn.pf.beforeTask(null, go), { go: true });
    assert.equal(probes() + warn.probes(), 0);
  });

  it('warn starts anyway and says so once per situation', async () => {
    const { pf, said } = preflight(busy);
    assert.deepEqual(await pf.beforeTask(0, go), { go: true });
    assert.deepEqual(await pf.beforeTask(0, go), { go: true });
    assert.equal(said.length, 1);
    assert.match(said[0]!, new RegExp(`preflight warning: 1 other process\\(es\\) on GPU 0: pid ${process.ppid}`));
  });

  it('fail refuses the task with the reason; a GPU no probe sees is refused too', async () => {
    const { pf } = preflight(busy, { policy: 'fail', minFreeBytes: 79 * GiB });
    const r = await pf.beforeTask(0, go);
    assert.equal(r.go, false);
    assert.match(!r.go && !r.stopped ? r.reason : '', /other process.*GPU 0 has 78\.0 GiB free memory, --min-free-mem wants 79\.0 GiB/);
    assert.match(JSON.stringify(await pf.beforeTask(7, go)), /no probe can see GPU 7/);
  });

  it('wait polls until the GPU is free, and tells the display while it waits', async () => {
    let free = false;
    const waits: (string | null)[] = [];
    const { pf, probes } = preflight(() => (free ? view([]) : busy()), { policy: 'wait', onWait: (_g, why) => waits.push(why) });
    const pending = pf.beforeTask(0, go);
    await waitFor(() => probes() >= 3, 'a few polls');
    free = true;
    assert.deepEqual(await pending, { go: true });
    assert.equal(waits.length, 2);
    assert.match(waits[0]!, /GPU 0/);
    assert.equal(waits[1], null);
  });

  it('a wait ends when the pool stops (Ctrl-C), without starting the task', async () => {
    const stop = new AbortController();
    const { pf, probes } = preflight(busy, { policy: 'wait' });
    const pending = pf.beforeTask(0, stop.signal);
    await waitFor(() => probes() >= 2, 'a poll');
    stop.abort();
    assert.deepEqual(await pending, { go: false, stopped: true });
  });

  it('reap: the strays on the GPU are reaped, then the task starts; what cannot be reaped is waited for', async () => {
    let busy = true;
    const reaps: number[] = [];
    const reap = async (gpu: number) => {
      reaps.push(gpu);
      const was = busy;
      busy = false;
      return { reaped: was ? 1 : 0, line: `reaped on ${gpu}` };
    };
    const { pf, said } = preflight(() => (busy ? busy_() : view([])), { policy: 'reap', reap });
    assert.deepEqual(await pf.beforeTask(0, go), { go: true });
    assert.deepEqual(reaps, [0]);
    assert.deepEqual(said, ['reaped on 0']);
    // a holder that is no stray: reaped 0, so the task waits (one reap per poll, never a spin)
    busy = true;
    const stubborn = preflight(busy_, { policy: 'reap', reap: async () => (reaps.push(9), { reaped: 1, line: null }) });
    const stop = new AbortController();
    const pending = stubborn.pf.beforeTask(0, stop.signal);
    await waitFor(() => stubborn.probes() >= 6, 'a few polls');
    stop.abort();
    assert.deepEqual(await pending, { go: false, stopped: true });
    const n = reaps.filter((g) => g === 9).length;
    assert.ok(n >= 3 && n <= stubborn.probes() / 2 + 1, `${n} reaps for ${stubborn.probes()} probes`);
  });

  it('concurrent checks share one probe', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let n = 0;
    const pf = new Preflight({ policy: 'warn', minFreeBytes: null, ours: () => false, say: () => {}, probe: async () => (n++, await gate, view([])) });
    const all = Promise.all([pf.beforeTask(0, go), pf.beforeTask(1, go), pf.beforeTask(0, go)]);
    release();
    await all;
    assert.equal(n, 1);
  });
});
